"""Running a tool in the background fails closed: missing, crashed, hung or garbled."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

import pytest

from pytest_promote._util.process import BackgroundTool, Cancelled, ToolError, find_tool, tool_identity

pytestmark = pytest.mark.supported_range


def python(code: str) -> list[str]:
    """An argv running ``code`` in a real Python process."""
    return [sys.executable, "-c", code]


def collect(tmp_path: Path, argv: list[str] | None, timeout: float = 30.0) -> object:
    """Start a tool, then collect its JSON, as a gate does."""
    run = BackgroundTool("mytool", argv, tmp_path, timeout, hint="pip install mytool")
    run.start()
    return run.json_output((0, 1))


def test_json_output(tmp_path: Path) -> None:
    data = {"findings": [1, 2]}
    assert collect(tmp_path, python(f"print({json.dumps(data)!r}); raise SystemExit(1)")) == data


def test_missing_tool_names_it_and_the_hint(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=r"(?s)mytool not found .*\npip install mytool"):
        collect(tmp_path, None)


def test_unstartable_tool(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=r"cannot run .*nothere"):
        collect(tmp_path, [str(tmp_path / "nothere")])


def test_crash_quotes_the_tools_own_words(tmp_path: Path) -> None:
    code = "import sys; print('{}'); sys.stderr.write('fatal: config broken\\n'); sys.exit(2)"
    with pytest.raises(ToolError, match=r"(?s)exited 2:\nfatal: config broken\npip install"):
        collect(tmp_path, python(code))


def test_unparseable_output(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=r"(?s)is not JSON:\nhello"):
        collect(tmp_path, python("print('hello')"))


def test_timeout_kills_the_tool(tmp_path: Path) -> None:
    marker = tmp_path / "survived"
    code = f"import time, pathlib; time.sleep(3); pathlib.Path({str(marker)!r}).touch()"
    with pytest.raises(ToolError, match=r"timed out after 0\.3s"):
        collect(tmp_path, python(code), timeout=0.3)
    assert not marker.exists()


def test_the_tool_reads_what_it_is_given(tmp_path: Path) -> None:
    run = BackgroundTool("mytool", python("import sys; print(sys.stdin.read().upper())"), tmp_path, None,
                         stdin=b'"given"')
    run.start()
    assert run.json_output((0,)) == "GIVEN"


def test_a_cancelled_tool_is_killed(tmp_path: Path) -> None:
    started = tmp_path / "started"
    code = f"import time, pathlib; pathlib.Path({str(started)!r}).touch(); time.sleep(600)"
    run = BackgroundTool("mytool", python(code), tmp_path, 600.0)
    run.start()
    cancel = threading.Event()

    def cancel_once_started() -> None:
        while not started.exists():
            time.sleep(0.05)
        cancel.set()

    threading.Thread(target=cancel_once_started, daemon=True).start()
    with pytest.raises(Cancelled, match=r"mytool .* was cancelled"):
        run.wait(cancel)
    assert run._proc is not None
    with pytest.raises(ProcessLookupError):  # the whole group is gone, and reaped
        os.killpg(run._proc.pid, 0)


def test_a_tool_without_a_timeout_or_a_cancel_runs_to_its_end(tmp_path: Path) -> None:
    run = BackgroundTool("mytool", python("import time; time.sleep(0.3); print(7)"), tmp_path, None)
    assert run.wait(threading.Event()) == (0, "7\n", "")


def test_shown_command_hides_the_interpreter(tmp_path: Path) -> None:
    run = BackgroundTool("ruff", [sys.executable, "-m", "ruff", "check"], tmp_path, 1)
    assert run.shown() == "`ruff check`"


def test_find_tool_prefers_the_environment() -> None:
    found = find_tool("ruff", "ruff")
    assert found == [str(Path(sys.executable).parent / "ruff")]
    assert find_tool("no-such-tool-anywhere") is None
    assert find_tool("no-such-tool-anywhere", "json") == [sys.executable, "-m", "json"]


def test_tool_identity_is_the_installed_version() -> None:
    from importlib.metadata import version

    argv = find_tool("ruff", "ruff")
    assert argv is not None
    assert tool_identity(argv, "ruff") == f"ruff=={version('ruff')}"
    assert tool_identity(["/bin/sh"], "sh").startswith(str(Path("/bin/sh").resolve()))


def test_a_background_tool_runs_at_lower_priority_set_after_the_spawn(tmp_path: Path) -> None:
    # The tool and a child it started at once both run niced (the whole group is).
    # Each reads its priority once the test has seen start() return (the file "go").
    wait_go = "import os, time\nwhile not os.path.exists('go'): time.sleep(0.05)\n"
    script = (
        "import os, subprocess, sys, time\n"
        f"child = subprocess.Popen([sys.executable, '-c', {wait_go + 'print(os.getpriority(os.PRIO_PROCESS, 0))'!r}])\n"
        f"{wait_go}print(os.getpriority(os.PRIO_PROCESS, 0)); sys.stdout.flush(); child.wait()"
    )
    tool = BackgroundTool("niced", [sys.executable, "-c", script], tmp_path, 600, nice=10)
    tool.start()
    (tmp_path / "go").touch()
    code, out, _ = tool.wait()
    expected = min(os.getpriority(os.PRIO_PROCESS, 0) + 10, 19)
    assert code == 0
    assert out.split() == [str(expected), str(expected)]
