"""The deps gate: a real CycloneDX SBOM of this test environment, judged by policy."""

from __future__ import annotations

import json
from importlib.metadata import metadata, requires, version

import pytest

pytestmark = pytest.mark.supported_range

METADATA = """\
Metadata-Version: 2.4
Name: demo-app
Version: 0.1.0
License-Expression: MIT
Provides-Extra: test
Requires-Dist: pluggy>=1.5
Requires-Dist: iniconfig; python_version >= "3"
Requires-Dist: colorama; sys_platform == "win32"
Requires-Dist: pytest; extra == "test"
"""
PLUGGY, INICONFIG = version("pluggy"), version("iniconfig")
#: The tests over pytest's real closure describe today's releases: pytest (>= 8.4)
#: needs Pygments, packaging declares its license expression. Older releases, as the
#: lowest supported versions install, make another closure.
TODAYS_CLOSURE = pytest.mark.skipif(
    not any(r.lower().startswith("pygments") for r in requires("pytest") or ())
    or metadata("packaging").get("License-Expression") != "Apache-2.0 OR BSD-2-Clause",
    reason="pytest or packaging older than the closure these tests describe",
)


def policy(gate: str) -> str:
    return (
        '[project]\nname = "demo-app"\nversion = "0.1.0"\n\n'
        '[tool.promote]\nstages = ["production"]\n'
        f"[tool.promote.gates.deps]\n{gate}\n"
        '[tool.promote.stage.production]\nrequired = ["deps"]\n'
    )


@pytest.fixture
def installed(pytester: pytest.Pytester) -> pytest.Pytester:
    """A project installed the way pip leaves it: a .dist-info on sys.path."""
    dist_info = pytester.mkdir("site") / "demo_app-0.1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(METADATA)
    pytester.syspathinsert(pytester.path / "site")
    return pytester


def test_the_sbom_covers_the_installed_closure(installed: pytest.Pytester) -> None:
    installed.makepyprojecttoml(policy('allowlist = "approved.txt"'))
    (installed.path / "approved.txt").write_text("# reviewed 2024-05\npluggy>=1,<2\niniconfig\n")
    result = installed.runpytest("--promote-to=production")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*deps*required*passed*measured 2/2 approved*"])
    bom = json.loads((installed.path / "reports/sbom.cdx.json").read_text())
    assert (bom["bomFormat"], bom["specVersion"]) == ("CycloneDX", "1.6")
    assert bom["metadata"]["component"]["name"] == "demo-app"
    found = {c["name"]: (c["version"], c["purl"], c["licenses"]) for c in bom["components"]}
    assert found == {
        "pluggy": (PLUGGY, f"pkg:pypi/pluggy@{PLUGGY}", [{"license": {"id": "MIT"}}]),
        "iniconfig": (INICONFIG, f"pkg:pypi/iniconfig@{INICONFIG}", [{"license": {"id": "MIT"}}]),
    }
    graph = {d["ref"]: d.get("dependsOn", []) for d in bom["dependencies"]}
    assert sorted(graph["pkg:pypi/demo-app@0.1.0"]) == [
        f"pkg:pypi/iniconfig@{INICONFIG}",
        f"pkg:pypi/pluggy@{PLUGGY}",
    ]


def test_the_sbom_reads_back_with_cyclonedx(installed: pytest.Pytester) -> None:
    from cyclonedx.model.bom import Bom

    installed.makepyprojecttoml(policy('sbom = "out/bom.json"\ndenied_licenses = ["GPL-*"]'))
    installed.runpytest("--promote-to=production").assert_outcomes(passed=2)
    bom = Bom.from_json(json.loads((installed.path / "out/bom.json").read_text()))  # type: ignore[attr-defined]
    assert sorted(c.name for c in bom.components) == ["iniconfig", "pluggy"]


def test_unapproved_components_are_listed_with_version_and_license(
    installed: pytest.Pytester,
) -> None:
    installed.makepyprojecttoml(policy('allowlist = "approved.txt"'))
    (installed.path / "approved.txt").write_text("pluggy<1.0\nPluggy==0.13.1\n")
    result = installed.runpytest("--promote-to=production")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "deps: 2 of 2 component(s) not approved (all must be approved for production); "
            "SBOM: reports/sbom.cdx.json",
            f"approved.txt: unapproved iniconfig {INICONFIG} (MIT): not in the allowlist",
            f"approved.txt: unapproved pluggy {PLUGGY} (MIT): "
            "version not allowed (allowlist: <1.0 or ==0.13.1)",
        ]
    )
    assert (installed.path / "reports/sbom.cdx.json").stat().st_size > 0  # evidence even on failure


@TODAYS_CLOSURE
def test_extras_widen_the_closure(installed: pytest.Pytester) -> None:
    installed.makepyprojecttoml(policy('extras = ["test"]\ndenied_licenses = ["GPL-*"]'))
    installed.runpytest("--promote-to=production").assert_outcomes(passed=2)
    bom = json.loads((installed.path / "reports/sbom.cdx.json").read_text())
    names = {c["name"].lower() for c in bom["components"]}
    assert {"pytest", "pluggy", "iniconfig", "packaging", "pygments"} <= names


@TODAYS_CLOSURE
def test_licenses_allowed_and_denied_from_roots(pytester: pytest.Pytester) -> None:
    """pytest's closure: MIT, Pygments' BSD-2-Clause, packaging's Apache-2.0 OR BSD-2-Clause."""
    gate = 'roots = ["pytest"]\nallowed_licenses = ["MIT", "BSD-*"]'
    pytester.makepyprojecttoml(policy(gate))
    pytester.runpytest("--promote-to=production").assert_outcomes(passed=2)
    pytester.makepyprojecttoml(policy(gate + '\ndenied_licenses = ["BSD-2-Clause"]'))
    result = pytester.runpytest("--promote-to=production")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "deps: 2 of 5 component(s) not approved*",
            f"denied packaging {version('packaging')} (Apache-2.0 OR BSD-2-Clause): "
            "license Apache-2.0 "
            "not in allowed_licenses; license BSD-2-Clause denied by 'BSD-2-Clause'",
            f"denied Pygments {version('pygments')} (BSD-2-Clause): "
            "license BSD-2-Clause denied by 'BSD-2-Clause'",
        ]
    )


def test_a_requirement_that_is_not_installed_fails(installed: pytest.Pytester) -> None:
    dist_info = installed.path / "site/demo_app-0.1.0.dist-info"
    (dist_info / "METADATA").write_text(METADATA + "Requires-Dist: no-such-dist-xyz>=1\n")
    installed.makepyprojecttoml(policy('denied_licenses = ["GPL-*"]'))
    result = installed.runpytest("--promote-to=production")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "deps: 0 of 2 component(s) not approved, 1 required but not installed*",
            "missing not installed: no-such-dist-xyz>=1 (required by demo-app)",
        ]
    )


def test_an_uninstalled_project_without_roots_is_an_error(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(policy('denied_licenses = ["GPL-*"]'))
    result = pytester.runpytest("--promote-to=production")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "deps: cannot judge the dependencies: the project 'demo-app' is not installed in this "
            "environment (pip install -e .); install it, or list the distributions to start "
            "from in `roots`"
        ]
    )


def test_a_bad_allowlist_line_is_an_error(installed: pytest.Pytester) -> None:
    installed.makepyprojecttoml(policy('allowlist = "approved.txt"'))
    (installed.path / "approved.txt").write_text("pluggy\niniconfig ~= \n")
    result = installed.runpytest("--promote-to=production")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        ["deps: cannot judge the dependencies: approved.txt:2: 'iniconfig ~=' *"]
    )


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ("", "deps needs an `allowlist`*"),
        ('roots = ["pytest"]\nextras = ["dev"]\ndenied_licenses = ["GPL-*"]', "`extras` apply to*"),
    ],
)
def test_bad_options_are_usage_errors(pytester: pytest.Pytester, gate: str, message: str) -> None:
    pytester.makepyprojecttoml(policy(gate))
    result = pytester.runpytest("--promote-to=production")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*: gates.deps = *{message}"])
