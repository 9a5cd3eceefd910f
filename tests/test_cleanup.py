"""No process outlives the run: tools, command gates with their descendants, secrets
workers; on a normal end, on Ctrl-C (SIGINT), SIGTERM and SIGHUP. Real processes,
found by a unique marker in their command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from pytest_promote.ledger.records import REF

pytestmark = pytest.mark.supported_range


def leftovers(marker: str, cwd: Path | None = None) -> list[int]:
    """Live (not zombie) processes whose command line holds ``marker`` (and, given
    ``cwd``, that run there)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            here = cwd is None or Path(os.readlink(entry / "cwd")) == cwd
        except OSError:
            continue
        if marker in cmdline and state != "Z" and here:
            found.append(int(entry.name))
    return found


def settle(marker: str, cwd: Path | None = None, wait: float = 300.0) -> list[int]:
    """The leftovers once killed processes are gone (``wait``: only a safety net, for a
    loaded machine; a process still there after it is a leftover)."""
    deadline = time.monotonic() + wait
    while (found := leftovers(marker, cwd)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def wait_for(check, what: str, timeout: float = 300.0) -> None:
    """Wait until ``check()`` (``timeout``: only a safety net, for a loaded machine)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.05)


def unique_sleep() -> str:
    """``sleep N`` with an N no other test or process uses."""
    return f"sleep {300_000 + uuid.uuid4().int % 600_000}"


@pytest.fixture(autouse=True)
def _posix_only() -> None:
    if not Path("/proc/self/cmdline").exists():
        pytest.skip("counts processes through /proc")


def starter(project, command: str, timeout: float = 600) -> pytest.Pytester:
    """A project whose gate ``starter`` runs the shell ``command``."""
    return project(f"""
        [tool.promote]
        stages = ["development"]
        enforce_path = false
        [tool.promote.gates.starter]
        command = "{command}"
        shell = true
        timeout = {timeout}
        [tool.promote.stage.development]
        required = ["tests", "starter"]
    """)


def test_a_command_gates_background_child_ends_with_the_gate(project) -> None:
    sleeper = unique_sleep()
    pytester = starter(project, f"{sleeper} & echo started")
    result = pytester.runpytest("--promote-to=development", "-p", "no:cacheprovider")
    assert result.ret == 0
    assert settle(sleeper) == []


#: A daemon's start: fork, leave the session (setsid), fork again, the middle one exits;
#: the daemon runs ``argv``, belongs to no process group of the run, and its parent is
#: gone. Then "started" is written, and the command waits ``then`` seconds.
DAEMON = """
import os, sys, time, pathlib
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execvp(sys.argv[1], sys.argv[1:])
    os._exit(0)
os.wait()
pathlib.Path("started").write_text("yes")
time.sleep(float(os.environ.get("THEN", "0")))
"""


@pytest.mark.parametrize(("how", "end"), [("setsid", "finished"), ("double fork", "finished"),
                                         ("setsid", "timed out")])
def test_a_command_gates_descendant_that_left_its_session_ends_with_the_gate(project, how, end) -> None:
    sleeper = unique_sleep()
    then = "600" if end == "timed out" else "0"
    if how == "setsid":
        command = f"setsid {sleeper} & echo started > started; sleep {then}"
    else:
        project_daemon = f"{sys.executable} daemon.py {sleeper}"
        command = f"THEN={then} {project_daemon}"
    pytester = starter(project, command, 4 if end == "timed out" else 600)
    pytester.path.joinpath("daemon.py").write_text(DAEMON)
    result = pytester.runpytest("--promote-to=development", "-p", "no:cacheprovider")
    assert (pytester.path / "started").exists()  # the escape ran before the gate ended
    assert result.ret == (0 if end == "finished" else 1), result.stdout.str()
    if end == "timed out":
        result.stdout.fnmatch_lines(["*starter*timed out after 4s*"])
    assert settle(sleeper) == []


SLOW_PLUGIN = """
import time
from detect_secrets.plugins.base import RegexBasedDetector

class SlowDetector(RegexBasedDetector):
    secret_type = "Slow"  # pragma: allowlist secret
    denylist = ()

    def analyze_line(self, *args, **kwargs):
        time.sleep(600)  # a misbehaving plugin keeps its worker busy
        return set()
"""


def interrupted_project(pytester: pytest.Pytester, sleeper: str) -> None:
    """A project whose test waits to be interrupted, with a command gate and a
    secrets scan (made slow by a custom detect-secrets plugin) running meanwhile."""
    pytester.makepyprojecttoml(textwrap.dedent(f"""
        [tool.promote]
        stages = ["development"]
        [tool.promote.gates.waiter]
        command = "{sleeper}"
        [tool.promote.stage.development]
        required = ["tests", "waiter", "secrets"]
    """))
    # Short sleeps: the kernel may hand the signal to another thread (the secrets
    # scan's), and CPython runs the handler only once the main thread wakes; one long
    # sleep would keep it waiting.
    pytester.makepyfile(test_wait="""
        import pathlib, time

        def test_waits():
            pathlib.Path("started").write_text("yes")
            for _ in range(6000):
                time.sleep(0.1)
    """)
    pytester.path.joinpath("slow_plugin.py").write_text(SLOW_PLUGIN)
    baseline = {
        "version": "1.5.0", "plugins_used": [{"name": "SlowDetector", "path": "file://slow_plugin.py"}],
        "filters_used": [], "results": {},
    }
    pytester.path.joinpath(".secrets.baseline").write_text(json.dumps(baseline))
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=T", "-c", "user.email=t@e", "commit", "-q", "-m", "first"]):
        subprocess.run(["git", *args], cwd=pytester.path, check=True, capture_output=True)


@pytest.mark.parametrize(("signame", "times"), [("SIGTERM", 1), ("SIGHUP", 1), ("SIGINT", 1), ("SIGTERM", 3)])
def test_a_signal_ends_every_process_and_records_a_red_run(pytester, signame, times) -> None:
    sleeper = unique_sleep()
    interrupted_project(pytester, sleeper)
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@e",
           "GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@e"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "pytest", "--promote-to=development", "-p", "no:cacheprovider"],
        cwd=pytester.path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )
    try:
        root = pytester.path.resolve()
        wait_for(lambda: (root / "started").exists(), "the test to start")
        wait_for(lambda: leftovers(sleeper), "the command gate to start")
        wait_for(lambda: leftovers("secrets/worker.py", root), "a secrets worker to start")
        for _ in range(times):  # a repeated signal must not break off the cleanup
            proc.send_signal(getattr(signal, signame))
            time.sleep(0.3)
        out, _ = proc.communicate(timeout=300)  # a safety net: the run ends at once
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out
    assert settle(sleeper) == [], out
    assert settle("secrets/worker.py", root) == [], out
    assert "Traceback" not in out
    assert f"RED (run terminated by {signame};" in out
    note = subprocess.run(["git", "notes", f"--ref={REF}", "show", "HEAD"], cwd=root,
                          capture_output=True, text=True, check=True).stdout
    (record,) = [json.loads(line) for line in note.splitlines()]
    assert (record["colour"], record["accepted"], record["terminated"]) == ("red", False, signame)


KILLED_WRITER = """
import os, signal
from pathlib import Path
from pytest_promote._util import git

with git.private_ref(Path("."), "refs/notes/promote"):
    os.kill(os.getpid(), signal.SIGKILL)  # killed before it can delete its ref
"""


def test_a_private_ref_of_a_killed_writer_is_dropped_by_the_next_writer(git_project, git) -> None:
    from gitrepo import NO_CACHE, THREE_STAGES

    from pytest_promote._util.git import _HOST, PRIVATE_REFS

    pytester = git_project(THREE_STAGES)
    assert pytester.runpytest("--promote-to=development", *NO_CACHE).ret == 0
    done = subprocess.run([sys.executable, "-c", KILLED_WRITER], cwd=pytester.path, check=False)
    assert done.returncode == -signal.SIGKILL
    (left,) = git("for-each-ref", "--format=%(refname)", PRIVATE_REFS).splitlines()
    live = f"{PRIVATE_REFS}{_HOST}-{os.getpid()}-{int(time.time())}-{uuid.uuid4().hex}"  # this process's
    git("update-ref", live, "refs/notes/promote")

    assert pytester.runpytest("--promote-to=development", *NO_CACHE).ret == 0

    assert git("for-each-ref", "--format=%(refname)", PRIVATE_REFS).splitlines() == [live]
    assert left != live
