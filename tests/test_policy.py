"""Policy loading: defaults, inheritance, only-tighten, and errors that say what to do."""

from __future__ import annotations

import textwrap

import pytest

from pytest_promote.gates.artifacts import ArtifactsGate
from pytest_promote.gates.command import CommandGate
from pytest_promote.gates.invariants import InvariantsGate
from pytest_promote.gates.tests import TestsGate
from pytest_promote.policy import loader
from pytest_promote.policy.model import Policy

pytestmark = pytest.mark.supported_range

KINDS = {
    "tests": TestsGate, "invariants": InvariantsGate,
    "artifacts": ArtifactsGate, "command": CommandGate,
}


def load(text: str) -> Policy:
    import tomllib

    return loader.load(tomllib.loads(textwrap.dedent(text)), "pyproject.toml [tool.promote]", KINDS)


def error(text: str) -> str:
    with pytest.raises(pytest.UsageError) as info:
        load(text)
    return str(info.value)


def test_stages_inherit_and_tighten() -> None:
    pol = load("""
        stages = ["dev", "prod"]
        [gates]
        invariants = { count = 2 }
        smoke = { command = "true" }
        [stage.dev]
        required = ["tests"]
        advisory = ["invariants"]
        [stage.prod]
        required = ["invariants", "smoke"]
        invariants = { count = 5 }
    """)
    dev, prod = pol.stages
    assert dev.accept == "yellow" and prod.accept == "green"
    assert dev.gates == ("tests", "invariants")
    assert prod.required == ("tests", "invariants", "smoke") and prod.advisory == ()
    assert dev.options["invariants"].count == 2
    assert prod.options["invariants"].count == 5
    assert pol.gates["smoke"].kind == "command"
    assert pol.previous("prod") is dev


def test_embedded_default_when_no_policy() -> None:
    kinds = {**KINDS, **{k: TestsGate for k in ("secrets", "lint", "types", "coverage")}}
    pol = loader.load(None, "embedded default policy", kinds)
    dev, staging, prod = pol.stages
    assert (dev.accept, staging.accept, prod.accept) == ("yellow", "green", "green")
    assert dev.required == ("tests", "secrets")
    assert dev.advisory == ("lint", "types", "coverage")
    assert set(staging.required) == {"tests", "secrets", "lint", "types", "coverage"}
    assert "invariants" not in prod.required


def test_default_stages_require_invariants_and_artifacts_once_configured() -> None:
    kinds = {**KINDS, **{k: TestsGate for k in ("secrets", "lint", "types", "coverage")}}
    table = {"gates": {"invariants": {"count": 12}, "artifacts": {"paths": ["dist/*"]}}}
    pol = loader.load(table, "pyproject.toml [tool.promote]", kinds)
    assert pol.stage("production").required[-2:] == ("invariants", "artifacts")
    assert "invariants" not in pol.stage("staging").gates


def test_threshold_that_drops_is_rejected() -> None:
    msg = error("""
        stages = ["dev", "prod"]
        [stage.dev]
        required = ["invariants"]
        invariants = { count = 12 }
        [stage.prod]
        invariants = { count = 10 }
    """)
    assert msg == (
        "pyproject.toml [tool.promote]: stage.prod.invariants.count = 10: a later stage may "
        "only tighten: dev has 12; use a value >= 12"
    )


@pytest.mark.parametrize(
    ("kind", "flag", "first", "later"),
    [("types", "warnings", "true", "false"), ("secrets", "verify", "false", "true")],
    ids=["types stops counting warnings", "secrets verifies again"],
)
def test_a_flag_that_loosens_is_a_usage_error(
    pytester: pytest.Pytester, kind: str, flag: str, first: str, later: str
) -> None:
    pytester.makepyprojecttoml(
        f'[tool.promote.stage.development]\nrequired = ["{kind}"]\n{kind} = {{ {flag} = {first} }}\n'
        f"[tool.promote.stage.staging]\n{kind} = {{ {flag} = {later} }}\n"
    )

    result = pytester.runpytest("--promote-to=staging")

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        [f"*stage.staging.{kind}.{flag} = {later.title()}: a later stage may only tighten*"]
    )


def test_required_gate_cannot_become_advisory() -> None:
    msg = error("""
        stages = ["dev", "prod"]
        [stage.dev]
        required = ["tests"]
        [stage.prod]
        advisory = ["tests"]
    """)
    assert "stage.prod.advisory = ['tests']" in msg
    assert "'tests' is required in dev; a later stage cannot make it advisory" in msg


def test_accept_cannot_loosen() -> None:
    msg = error("""
        stages = ["dev", "prod"]
        [stage.dev]
        accept = "green"
        [stage.prod]
        accept = "yellow"
    """)
    assert "stage.prod.accept = 'yellow': loosens dev, which accepts 'green'; use 'green'" in msg


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('stagez = ["a"]', "stagez = ['a']: unknown key; did you mean 'stage'?"),
        (
            '[stage.development]\nrequired = ["test"]',
            "stage.development.required = ['test']: unknown gate id 'test': no installed gate kind "
            "has that name and [tool.promote.gates] does not define it; did you mean 'tests'?",
        ),
        (
            '[stage.development]\nacept = "green"',
            "stage.development.acept = 'green': not a stage setting or gate id; did you mean 'accept'?",
        ),
        ('[stage.development]\naccept = "blue"', "stage.development.accept = 'blue': valid: green, yellow"),
        ('[stage.staging]\nrequired = "tests"', "expected a list (a list of a string)"),
        ("[gates]\ninvariants = { count = \"12\" }", "gates.invariants.count = '12': expected an integer"),
        ("[gates]\ninvariants = { cuont = 12 }", "invariants.cuont = 12: unknown key; did you mean 'count'?"),
        ("[gates.smok]\nrun = \"x\"", "gates.smok = {'run': 'x'}: not a gate kind and has no `command`"),
        ('[gates.smoke]\ncommand = "x"\ntimeout = -1',
         "smoke.timeout = -1.0: out of range: use a number from 0.001 to 86400"),
        ('[gates.artifacts]\npaths = ["../secret/*"]',
         "`paths` = '../secret/*' leaves the project root; it must be a glob relative to the"),
        ('stages = ["a", "a"]', "stages = ['a', 'a']: list each stage once"),
        ('[stage.prod]\naccept = "green"', "stage.prod = {'accept': 'green'}: not in stages"),
    ],
)
def test_bad_policy_names_key_value_and_fix(text: str, expected: str) -> None:
    base = '\n[stage.development]\nrequired = ["tests", "invariants"]\n' if "stage." not in text else ""
    msg = error(text + base)
    assert msg.startswith("pyproject.toml [tool.promote]: ")
    assert expected in msg


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[gates.smoke]\ncommand = "x"\ncwd = "/srv"',
         "`cwd` = '/srv' leaves the project root; it must be a relative path inside the project root"),
        ('[gates.drift]\ncontract = "../api.json"\ncommand = "x"', "`contract` = '../api.json' leaves"),
        ('[gates.drift]\ncontract = "api.json"\ncommand = "x"\nacknowledgements = "/etc/ack.toml"',
         "`acknowledgements` = '/etc/ack.toml' leaves"),
        ('[gates.metrics.checks.up]\nfile = "../up.json"\npath = "a"\nmin = 1', "`file` = '../up.json' leaves"),
        ('[gates.deps]\nallowlist = "../approved.txt"', "`allowlist` = '../approved.txt' leaves"),
        ('[gates.deps]\nallowlist = "ok.txt"\nsbom = "/srv/sbom.json"', "`sbom` = '/srv/sbom.json' leaves"),
    ],
)
def test_every_path_a_gate_reads_or_writes_stays_inside_the_root(text: str, expected: str) -> None:
    import tomllib

    from pytest_promote.gates.builtin import pytest_promote_gate_kinds

    table = tomllib.loads(text + '\n[stage.development]\nrequired = ["tests"]\n')
    with pytest.raises(pytest.UsageError) as info:
        loader.load(table, "pyproject.toml [tool.promote]", pytest_promote_gate_kinds())
    assert expected in str(info.value)


def test_bad_policy_is_usage_error_with_exit_4(project) -> None:
    pytester = project(policy="""
        [tool.promote]
        stages = ["dev", "prod"]
        [tool.promote.stage.dev]
        required = ["tests"]
        [tool.promote.stage.prod]
        advisory = ["tests"]
    """)
    result = pytester.runpytest("--promote-to=prod")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: pyproject.toml [[]tool.promote[]]: stage.prod.advisory*"])


def test_promote_config_file(project) -> None:
    pytester = project(policy="[project]\nname = 'x'\n")
    pytester.path.joinpath("promote.toml").write_text(
        '[tool.promote]\nstages = ["only"]\n[tool.promote.stage.only]\nrequired = ["tests"]\n'
    )
    result = pytester.runpytest("--promote-to=only", "--promote-config=promote.toml")
    result.stdout.fnmatch_lines(["*promote: stage only (policy: *promote.toml, sha256:*)"])
    assert result.ret == 0
    missing = pytester.runpytest("--promote-to=only", "--promote-config=nope.toml")
    assert missing.ret == pytest.ExitCode.USAGE_ERROR
    missing.stderr.fnmatch_lines(["*--promote-config: path = '*nope.toml': no such file*"])


def test_gate_nobody_provides_is_an_error(project) -> None:
    pytester = project(policy="""
        [tool.promote]
        stages = ["dev"]
        [tool.promote.stage.dev]
        required = ["tests", "changelog"]
    """)
    result = pytester.runpytest("--promote-to=dev")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*stage.dev.required = ?'tests', 'changelog'?: unknown gate id 'changelog': no installed*"]
    )
