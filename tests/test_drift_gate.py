"""The drift gate: a real package's contract, produced in a fresh interpreter."""

from __future__ import annotations

import json
import sys
import textwrap

import pytest

CANONICAL = {
    "version": 1,
    "endpoints": {"users": {"method": "GET", "fields": ["id"]}, "legacy": {"method": "POST"}},
}
CODE = """
def contract():
    print("importing the app prints things")  # must not corrupt the JSON
    return {
        "version": 2,
        "endpoints": {
            "users": {"method": "GET", "fields": ["id", "name"]},
            "orders": {"method": "GET"},
        },
    }
"""
POLICY = """
[tool.promote]
stages = ["staging"]

[tool.promote.gates.drift]
contract = "contract.json"
{how}
{acks}

[tool.promote.stage.staging]
required = ["drift"]
"""
DIFFS = [
    "contract.json: drift - endpoints.legacy",
    "contract.json: drift + endpoints.orders",
    "contract.json: drift + endpoints.users.fields[[]1[]]",
    "contract.json: drift ~ version: 1 -> 2",
]


@pytest.fixture
def app(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.mkpydir("api")
    (pytester.path / "api/contract.py").write_text(CODE)
    (pytester.path / "contract.json").write_text(json.dumps(CANONICAL))
    return pytester


def configure(
    pytester: pytest.Pytester, how: str = 'source = "api.contract:contract"', acks: str = ""
) -> None:
    pytester.makepyprojecttoml(POLICY.format(how=how, acks=acks))


def run(pytester: pytest.Pytester, *args: str) -> pytest.RunResult:
    return pytester.runpytest("--promote-to=staging", *args)


def test_every_added_removed_and_changed_path_is_listed(app: pytest.Pytester) -> None:
    configure(app)
    result = run(app)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "drift: 4 unacknowledged difference(s) from contract.json, 0 stale acknowledgement(s); "
            "none allowed for staging",
            *DIFFS,
        ]
    )


def test_the_same_contract_passes(app: pytest.Pytester) -> None:
    (app.path / "contract.json").write_text(json.dumps(CANONICAL | {"version": 2}))
    configure(app)
    (app.path / "api/contract.py").write_text(
        f"def contract():\n    return {CANONICAL | {'version': 2}!r}\n"
    )
    run(app).assert_outcomes(passed=2)


def test_the_code_on_disk_is_read_fresh_each_run(app: pytest.Pytester) -> None:
    """In-process runs share sys.modules; the contract must still reflect edits."""
    (app.path / "contract.json").write_text(json.dumps({"version": 1}))
    configure(app)
    (app.path / "api/contract.py").write_text("def contract():\n    return {'version': 1}\n")
    run(app).assert_outcomes(passed=2)
    (app.path / "api/contract.py").write_text("def contract():\n    return {'version': 3}\n")
    run(app).stdout.fnmatch_lines(["contract.json: drift ~ version: 1 -> 3"])


ACKS_TOML = """
[[acknowledged]]
path = "version"
change = "changed"
reason = "v2 ships with the orders API"

[[acknowledged]]
path = "endpoints.legacy"
reason = "retired after the 2024 migration"
"""


def test_acknowledged_differences_pass_and_are_reported(app: pytest.Pytester) -> None:
    (app.path / "acks.toml").write_text(ACKS_TOML)
    configure(app, acks='acknowledgements = "acks.toml"')
    result = run(app)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "drift: 2 unacknowledged difference(s) *",
            "acknowledged: - endpoints.legacy (retired after the 2024 migration)",
            "acknowledged: ~ version: 1 -> 2 (v2 ships with the orders API)",
            DIFFS[1],
            DIFFS[2],
        ]
    )
    assert "drift - endpoints.legacy" not in result.stdout.str()


def test_everything_acknowledged_passes_in_json_too(app: pytest.Pytester) -> None:
    acks = {
        "acknowledged": [
            {"path": "version", "reason": "v2"},
            {"path": "endpoints", "reason": "the endpoints were redesigned"},  # covers the subtree
        ]
    }
    (app.path / "acks.json").write_text(json.dumps(acks))
    configure(app, acks='acknowledgements = "acks.json"')
    result = run(app, f"--promote-report={app.path}/report.json")
    result.assert_outcomes(passed=2)
    gate = json.loads((app.path / "report.json").read_text())["gates"][0]
    assert gate["measured"] == "0 unacknowledged, 4 acknowledged"
    assert "acknowledged: + endpoints.orders (the endpoints were redesigned)" in gate["summary"]


def test_a_stale_acknowledgement_fails(app: pytest.Pytester) -> None:
    (app.path / "acks.toml").write_text(
        ACKS_TOML + '\n[[acknowledged]]\npath = "endpoints"\nreason = "redesign"\n'
        '\n[[acknowledged]]\npath = "endpoints.users.method"\nchange = "~"\nreason = "was POST"\n'
    )
    configure(app, acks='acknowledgements = "acks.toml"')
    result = run(app)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "drift: 0 unacknowledged difference(s) from contract.json, 1 stale acknowledgement(s)*",
            "acks.toml: stale stale acknowledgement, no such difference now: "
            "~ endpoints.users.method (was POST)",
        ]
    )


def test_a_command_can_print_the_contract(app: pytest.Pytester) -> None:
    app.makepyfile(
        dump="import json\nfrom api.contract import contract\nprint(json.dumps(contract()))\n"
    )
    (app.path / "api/contract.py").write_text(
        textwrap.dedent(CODE).replace("    print(", "    0 and print(")
    )
    configure(app, how=f'command = [{json.dumps(sys.executable)}, "dump.py"]')
    run(app).stdout.fnmatch_lines(DIFFS)


@pytest.mark.parametrize(
    ("how", "code", "lines"),
    [
        (
            'source = "api.contract:contract"',
            "def contract():\n    raise RuntimeError('db down')\n",
            ["*: source api.contract:contract exited 1", "RuntimeError: db down"],
        ),
        (
            'source = "api.contract:missing"',
            "def contract():\n    return {}\n",
            [
                "*: source api.contract:missing exited 1",
                "AttributeError: module 'api.contract' has no attribute 'missing'",
            ],
        ),
        (
            'source = "api.contract:contract"',
            "def contract():\n    return {'when': object()}\n",
            ["*exited 1", "TypeError: Object of type object is not JSON serializable"],
        ),
        ('command = "echo not-json"', "", ["*: `echo not-json` did not print JSON: *"]),
        ('command = ["no-such-program-xyz"]', "", ["*: cannot run `no-such-program-xyz`: *"]),
    ],
)
def test_a_contract_that_cannot_be_produced_is_an_error(
    app: pytest.Pytester, how: str, code: str, lines: list[str]
) -> None:
    (app.path / "api/contract.py").write_text(code)
    configure(app, how=how)
    result = run(app, f"--promote-report={app.path}/report.json")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["drift: cannot compare contracts*", *lines[1:]])
    result.stdout.fnmatch_lines([f"drift: cannot compare contracts{lines[0]}"])
    assert json.loads((app.path / "report.json").read_text())["gates"][0]["status"] == "error"


@pytest.mark.parametrize(
    ("acks", "message"),
    [
        (
            '[[acknowledged]]\npath = "version"\n',
            "*acknowledged[[]0[]] (version): needs a `reason`",
        ),
        (
            '[[acknowledged]]\npath = "a..b"\nreason = "x"\n',
            "*acknowledged[[]0[]]: 'a..b': a key is missing*",
        ),
        (
            '[[acknowledged]]\npath = "v"\nreason = "x"\nchange = "moved"\n',
            "*`change` 'moved' is not one of*",
        ),
        ("acknowledged = 3\n", "*expected a list `acknowledged`*"),
    ],
)
def test_a_bad_acknowledgement_file_is_an_error(
    app: pytest.Pytester, acks: str, message: str
) -> None:
    (app.path / "acks.toml").write_text(acks)
    configure(app, acks='acknowledgements = "acks.toml"')
    result = run(app)
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([message])


def test_a_missing_canonical_contract_is_an_error(app: pytest.Pytester) -> None:
    (app.path / "contract.json").unlink()
    configure(app)
    run(app).stdout.fnmatch_lines(["drift: cannot compare contracts: *No such file*contract.json*"])


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ("", "drift needs `contract`*"),
        ('contract = "c.json"\nsource = "a:b"\ncommand = "x"', "drift needs `contract`*"),
        (
            'contract = "c.json"\nsource = "a.b"',
            "*`source` 'a.b' is not of the form 'package.module:function'",
        ),
    ],
)
def test_bad_options_are_usage_errors(pytester: pytest.Pytester, gate: str, message: str) -> None:
    gates = f"[tool.promote.gates.drift]\n{gate}\n" if gate else ""
    pytester.makepyprojecttoml(
        f'[tool.promote]\nstages = ["staging"]\n{gates}'
        '[tool.promote.stage.staging]\nrequired = ["drift"]\n'
    )
    result = run(pytester)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*: gates.drift = *{message}"])
