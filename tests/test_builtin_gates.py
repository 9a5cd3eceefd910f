"""The gates of the core: tests, invariants, artifacts and command gates."""

from __future__ import annotations

import os
import signal
import sys

ONE_STAGE = """
[tool.promote]
stages = ["ci"]
{gates}
[tool.promote.stage.ci]
required = {required}
"""


def policy(required: list[str], gates: str = "") -> str:
    return ONE_STAGE.format(gates=gates, required=required)


def test_tests_gate_min_count_and_required_markers(project) -> None:
    pytester = project(policy(
        ["tests"], '[tool.promote.gates.tests]\nmin = 3\nmarkers = ["integration"]\n'
    ))
    result = pytester.runpytest("--promote-to=ci")
    result.stdout.fnmatch_lines(
        [
            "*_ promote::tests _*",
            "tests: 2 passed, 0 failed; all must pass, >= 3, for ci",
            "marker no test marked 'integration'",
            "min 2 passed, at least 3 required",
        ]
    )
    assert result.ret == 1


def test_tests_gate_passes_with_marked_test(project) -> None:
    pytester = project(
        policy(["tests"], '[tool.promote.gates.tests]\nmarkers = ["integration"]\n'),
        test_app="""
            import pytest

            @pytest.mark.integration
            def test_end_to_end():
                pass
        """,
    )
    pytester.makeini("[pytest]\nmarkers =\n    integration: slow\n")
    result = pytester.runpytest("--promote-to=ci", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)


def test_invariants_gate_names_failing_ones(project) -> None:
    pytester = project(
        policy(["invariants"], "[tool.promote.gates.invariants]\ncount = 3\n"),
        test_app="""
            import pytest

            @pytest.mark.invariant
            def test_ledger_balances():
                pass

            @pytest.mark.invariant
            def test_no_orphans():
                assert False, "orphan found"
        """,
    )
    result = pytester.runpytest("--promote-to=ci")
    result.stdout.fnmatch_lines(
        [
            "*_ promote::invariants _*",
            "invariants: 1/3 passed (3 required for ci)",
            "test_app.py: failed test_app.py::test_no_orphans",
            "count 2 invariants exist, 3 required",
        ]
    )
    assert result.ret == 1


def test_invariant_marker_is_registered(project) -> None:
    pytester = project()
    result = pytester.runpytest("--strict-markers")
    result.assert_outcomes(passed=2)


def test_artifacts_counted_and_missing_named(project) -> None:
    pytester = project(policy(
        ["artifacts"],
        '[tool.promote.gates.artifacts]\npaths = ["dist/*.whl", "reports/sbom.json", '
        '"reports/scorecard.json"]\ncount = 4\n',
    ))
    dist = pytester.mkdir("dist")
    (dist / "a-1.whl").write_text("wheel")
    (dist / "b-1.whl").write_text("wheel")
    reports = pytester.mkdir("reports")
    (reports / "scorecard.json").write_text("")
    result = pytester.runpytest("--promote-to=ci")
    result.stdout.fnmatch_lines(
        [
            "2/4 artifacts: missing reports/sbom.json; empty reports/scorecard.json (stage ci)",
            "missing no file matches reports/sbom.json",
            "reports/scorecard.json: empty is empty",
        ]
    )
    assert result.ret == 1
    (reports / "scorecard.json").write_text("{}")
    (reports / "sbom.json").write_text("{}")
    result = pytester.runpytest("--promote-to=ci", "-v")
    result.stdout.fnmatch_lines(["promote::artifacts PASSED*", "*artifacts*measured 4/4*"])
    assert result.ret == 0


def test_artifact_globs_read_as_gitignore_lines(project) -> None:
    """``*.whl`` is a name at any depth (hidden directories too), ``/*.txt`` the root's only."""
    pytester = project(policy(["artifacts"], '[tool.promote.gates.artifacts]\npaths = ["*.whl", "/*.txt"]\n'))
    for name in ("build/out/a-1.whl", ".cache/b-1.whl", "docs/notes.txt"):
        (pytester.path / name).parent.mkdir(parents=True, exist_ok=True)
        (pytester.path / name).write_text("x")
    result = pytester.runpytest("--promote-to=ci")
    result.stdout.fnmatch_lines(["*2/2 artifacts: missing /[*].txt (stage ci)*"])
    (pytester.path / "notes.txt").write_text("x")
    result = pytester.runpytest("--promote-to=ci", "-v")
    result.stdout.fnmatch_lines(["*artifacts*measured 3/2*"])
    assert result.ret == 0


def test_artifacts_refuses_symlink_out_of_root(project, tmp_path_factory) -> None:
    outside = tmp_path_factory.mktemp("outside") / "secret.json"
    outside.write_text("{}")
    pytester = project(policy(["artifacts"], '[tool.promote.gates.artifacts]\npaths = ["out/*.json"]\n'))
    pytester.mkdir("out")
    (pytester.path / "out" / "link.json").symlink_to(outside)
    result = pytester.runpytest("--promote-to=ci")
    result.stdout.fnmatch_lines(["out/link.json: outside refused: resolves outside the project root"])
    assert result.ret == 1


def test_command_gate_passes_and_fails_with_output_tail(project) -> None:
    script = "import sys; print('checking'); print('metrics endpoint down'); sys.exit(3)"
    pytester = project(policy(
        ["smoke", "observability"],
        f'[tool.promote.gates]\nsmoke = {{ command = ["{sys.executable}", "-c", "print(1)"] }}\n'
        f'observability = {{ command = ["{sys.executable}", "-c", "{script}"] }}\n',
    ))
    result = pytester.runpytest("--promote-to=ci", "-v")
    result.stdout.fnmatch_lines(
        [
            "promote::smoke PASSED*",
            "promote::observability FAILED*",
            "*_ promote::observability _*",
            "observability: `*` exited 3 (exit 0 required for ci)",
            "--- output (last lines) ---",
            "checking",
            "metrics endpoint down",
        ]
    )


def test_command_gate_runs_without_shell_unless_asked(project) -> None:
    pytester = project(policy(
        ["plain", "shelled"],
        '[tool.promote.gates]\nplain = { command = "echo hi && exit 1" }\n'
        'shelled = { command = "echo hi && exit 1", shell = true }\n',
    ))
    result = pytester.runpytest("--promote-to=ci", "-v")
    # Without a shell, "&&" is an argument to echo, which exits 0.
    result.stdout.fnmatch_lines(["promote::plain PASSED*", "promote::shelled FAILED*"])


def test_command_gate_timeout_is_an_error(project) -> None:
    pytester = project(policy(
        ["slow"],
        f'[tool.promote.gates.slow]\ncommand = ["{sys.executable}", "-c", '
        '"import time; print(\'started\', flush=True); time.sleep(30)"]\ntimeout = 1\n',
    ))
    result = pytester.runpytest("--promote-to=ci")
    result.stdout.fnmatch_lines(["slow: `*` timed out after 1s", "*started*"])
    assert result.ret == 1


def test_command_not_found_fails_closed(project) -> None:
    pytester = project(policy(["smoke"], '[tool.promote.gates.smoke]\ncommand = "no-such-tool-xyz --check"\n'))
    result = pytester.runpytest("--promote-to=ci")
    result.stdout.fnmatch_lines(["smoke: cannot run `no-such-tool-xyz --check`: No such file or directory"])
    assert result.ret == 1


def test_command_after_tests_sees_what_tests_wrote(project) -> None:
    check = "import pathlib,sys; sys.exit(0 if pathlib.Path('built.txt').exists() else 1)"
    pytester = project(
        policy(
            ["tests", "check"],
            f'[tool.promote.gates.check]\ncommand = ["{sys.executable}", "-c", "{check}"]\nafter_tests = true\n',
        ),
        test_app="""
            import pathlib

            def test_build():
                pathlib.Path("built.txt").write_text("ok")
        """,
    )
    result = pytester.runpytest("--promote-to=ci")
    result.assert_outcomes(passed=4)


def test_an_interrupted_run_leaves_no_command_running(project) -> None:
    # The gate's command records its pid, then would run for a minute; the test run
    # is interrupted (Ctrl-C) as soon as the command has started.
    sleeper = "import os, time; open('pid', 'w').write(str(os.getpid())); time.sleep(60)"
    pytester = project(
        policy(["tests", "slow"], f'[tool.promote.gates.slow]\ncommand = ["{sys.executable}", "-c", "{sleeper}"]\n'),
        test_app="""
            import pathlib, time

            def test_interrupted():
                pid = pathlib.Path("pid")
                deadline = time.monotonic() + 30
                while not (pid.exists() and pid.read_text()) and time.monotonic() < deadline:
                    time.sleep(0.05)
                raise KeyboardInterrupt
        """,
    )
    result = pytester.runpytest_subprocess("--promote-to=ci")
    assert result.ret == 2  # interrupted
    pid = int((pytester.path / "pid").read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return
    os.kill(pid, signal.SIGKILL)
    raise AssertionError(f"the command (pid {pid}) still runs after the session ended")
