"""One redactor on every way out: secrets that gates would echo never leave the run."""

from __future__ import annotations

import base64
import http.server
import subprocess
import textwrap
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from pytest_promote._util.redact import MASK, Redactor, url_credentials

#: Planted secrets, and which part of the run would echo each (allowlisted for this
#: repository's own secrets gate).
RUFF_KEY = "Sup3rS3cretV4lue9xQ2mZ7pL"  # a repeated dict key (ruff F601); the secrets gate finds it
AWS_KEY = "AKIAZ7Q3XK2M9PLW4RTY"  # pragma: allowlist secret (pyright's Literal[...] type)
LOGGED = "hunter2-Zq8Lm3Vx"  # in the command gate's output tail
GITHUB_TOKEN = "ghp_" + "Ab3dEf6hIj9lMn2pQr5tUv8xYz1bCd4fGh7j"  # pragma: allowlist secret (override)
HEALTH_TOKEN = "tok-9f8e7d6c5b4a"  # a query parameter of the health URL, from $HEALTH_TOKEN
HEALTH_PASSWORD = "pw-Kq7Lz2Xc"  # pragma: allowlist secret (the health URL's password)
#: Longer than the 50 characters of a literal pyright shows before its ``…``.
CUT_KEY = "Qm7Xv2Lp9Rt4Wz8Kc3Nb6Hy1Fd5Gs0Ja7Ue2Ti9Ok4Pl8Mn3Bv6Cx1Zq5Ws0Ed7Rf"  # pragma: allowlist secret
SECRETS = (RUFF_KEY, AWS_KEY, LOGGED, GITHUB_TOKEN, HEALTH_TOKEN, HEALTH_PASSWORD, CUT_KEY)


@pytest.fixture
def health_url() -> Iterator[str]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            expected = base64.b64encode(f"ops:{HEALTH_PASSWORD}".encode()).decode()
            authorized = self.headers.get("Authorization") == f"Basic {expected}"
            self.send_response(200 if authorized and HEALTH_TOKEN in self.path else 401)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_no_planted_secret_reaches_any_output(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, health_url: str
) -> None:
    pytester.makepyprojecttoml(textwrap.dedent(f"""
        [tool.promote]
        stages = ["development", "production"]
        paths = ["src"]
        [tool.promote.gates.deploy]
        command = "cat deploy.log; exit 1"
        shell = true
        [tool.promote.gates.api]
        kind = "health"
        url = "http://ops:$HEALTH_PASSWORD@{health_url[len('http://'):]}/healthz?token=$HEALTH_TOKEN"
        [tool.promote.stage.development]
        required = ["tests", "secrets", "lint", "types", "deploy", "api"]
    """))
    (pytester.path / "src").mkdir()
    (pytester.path / "src" / "app.py").write_text(textwrap.dedent(f"""
        password = "{RUFF_KEY}"
        TABLE = {{"{RUFF_KEY}": 1, "{RUFF_KEY}": 2}}
        key: int = "{AWS_KEY}"
        api_token: int = "{CUT_KEY}"
    """), encoding="utf-8")
    (pytester.path / "deploy.log").write_text(f'connecting\npassword = "{LOGGED}"\nrefused\n')
    pytester.makepyfile(test_app="def test_works():\n    assert True\n")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=T", "-c", "user.email=t@e", "commit", "-q", "-m", "first"]):
        subprocess.run(["git", *args], cwd=pytester.path, check=True, capture_output=True)
    subprocess.run(["git", "config", "user.name", "T"], cwd=pytester.path, check=True)
    subprocess.run(["git", "config", "user.email", "t@e"], cwd=pytester.path, check=True)
    monkeypatch.setenv("HEALTH_TOKEN", HEALTH_TOKEN)
    monkeypatch.setenv("HEALTH_PASSWORD", HEALTH_PASSWORD)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(pytester.path / "step-summary.md"))
    result = pytester.runpytest(
        "--promote-to=development", "--promote-report=out/report.json",
        "--promote-summary=out/summary.md", "--junitxml=out/junit.xml", "-rA",
        # The reason comes in before the secrets gate finds RUFF_KEY: masked all the same.
        f"--promote-override=deploy:redeployed by hand with {GITHUB_TOKEN}; {RUFF_KEY} rotated",
    )
    terminal = result.stdout.str() + result.stderr.str()
    # The header states the override as given, before any gate has found a secret (the
    # command line shows it anyway): only what detect-secrets flags is masked there.
    header = [line for line in terminal.splitlines() if line.startswith("promote: override ")]
    assert header == [f"promote: override deploy by T <t@e>: redeployed by hand with {MASK}; "
                      f"{RUFF_KEY} rotated"]
    terminal = terminal.replace(header[0], "")
    # The run did echo them: each gate that would show a secret ran and shows a mask.
    for shown in ("Dictionary key literal", "Literal['" + MASK, f"password = \"{MASK}\"",
                  f"ops:{MASK}@", f"token={MASK}", f"redeployed by hand with {MASK}"):
        assert shown in terminal + (pytester.path / "out" / "report.json").read_text()
    outputs = {
        "terminal": terminal,
        "ledger": subprocess.run(["git", "notes", "--ref=promote", "show", "HEAD"],
                                 cwd=pytester.path, capture_output=True, text=True).stdout,
    }
    files = [*(pytester.path / "out").iterdir(), pytester.path / "step-summary.md",
             *(p for p in (pytester.path / ".pytest_cache").rglob("*") if p.is_file())]
    outputs.update({str(p.relative_to(pytester.path)): p.read_text(errors="replace") for p in files})
    assert len(outputs) >= 7 and "ledger" in outputs and outputs["ledger"]
    # The health gate passed (with the credentials) and says where it asked, masked.
    assert f"api: GET http://ops:{MASK}@127.0.0.1:" in outputs["out/report.json"]
    # A token detect-secrets reports only in part is masked whole.
    assert GITHUB_TOKEN[4:] not in "".join(outputs.values())
    leaks = [(where, s) for where, text in outputs.items() for s in SECRETS if s in text]
    assert leaks == []
    # pyright cut CUT_KEY at 50 characters: no 12 characters of it show anywhere.
    assert "…" in terminal
    runs = {CUT_KEY[i:i + 12] for i in range(len(CUT_KEY) - 11)}
    assert not [(where, r) for where, text in outputs.items() for r in runs if r in text]


def test_url_credentials_and_query_values_are_masked() -> None:
    text = "GET https://u:p4ss@h.example/x?a=1&b=&c=2#f and http://t0k@h/"  # pragma: allowlist secret
    assert url_credentials(text) == (
        f"GET https://u:{MASK}@h.example/x?a={MASK}&b=&c={MASK}#f and http://{MASK}@h/"
    )


def test_the_redactor_masks_found_values_and_what_detect_secrets_flags() -> None:
    redact = Redactor()
    redact.add([RUFF_KEY, "ab"])  # too short to mask everywhere
    text = f'key {RUFF_KEY} ab\naws = "{AWS_KEY}"\nplain line'
    assert redact(text) == f'key {MASK} ab\naws = "{MASK}"\nplain line'
    assert redact(redact(text)) == redact(text)
    assert redact.value({"a": [text], "n": 1}) == {"a": [redact(text)], "n": 1}


def test_secret_values_are_read_back_from_their_lines(tmp_path: Path) -> None:
    import hashlib

    from pytest_promote.api import Secret
    from pytest_promote.gates.secrets.gate import excerpts, recover_values
    from pytest_promote.gates.secrets.scan import Hit

    (tmp_path / "f.py").write_text(f'x = 1\npassword = "{LOGGED}"  # note\ntoken = "other"\n')
    digest = hashlib.sha1(LOGGED.encode()).hexdigest()
    unknown = hashlib.sha1(b"not on the line").hexdigest()
    hits = [Hit("f.py", 2, "Secret Keyword", digest), Hit("f.py", 9, "Secret Keyword", digest),
            Hit("f.py", 3, "Secret Keyword", unknown)]
    found = recover_values(tmp_path, hits)
    assert found == [Secret(LOGGED, "f.py", 2)]
    # A line is quoted only when every secret on it was read back, each masked there;
    # the line whose value was not found is not shown at all.
    assert excerpts(tmp_path, hits, found) == {("f.py", 2): f': password = "{MASK}"  # note'}


def test_the_ledger_status_masks_free_text_and_keeps_its_structure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pytest_promote._util import redact
    from pytest_promote.report.status import masked

    word = "deploy-main-01"  # a stage's name, and the value of a secret-looking variable
    monkeypatch.setenv("PROD_TOKEN", word)
    monkeypatch.setattr(redact, "_plain", None)  # read the environment afresh
    record = {"stage": word, "colour": "green", "commit": "c0ffee", "caveats": [f"X={word} set"],
              "environment": {"X": word}}
    status = {"stages": [{"stage": word, "last_accepted": record, "last_failed": None}],
              "malformed": [{"commit": "c0ffee", "line": f"{word} junk", "problem": "not JSON"}]}
    shown = masked(status)
    stage = shown["stages"][0]
    assert (stage["stage"], stage["last_accepted"]["stage"]) == (word, word)
    assert stage["last_accepted"]["caveats"] == [f"X={MASK} set"]
    assert stage["last_accepted"]["environment"] == {"X": MASK}
    assert shown["malformed"][0]["line"] == f"{MASK} junk"


def test_values_of_secret_looking_environment_variables_are_masked() -> None:
    from pytest_promote._util.redact import environment_secrets

    environ = {"db_password": "pw-0nE-x9Kq",  # pragma: allowlist secret
               "MY_SECRET_X": "s3cr3t-V4lue", "api_key": "k3y-Zz8Yy7",  # pragma: allowlist secret
               "AWS_SESSION_TOKEN": "t0k3n-Aa1Bb2Cc3Dd4", "PWD": "/srv/app", "HOME": "/home/ci",
               "EMPTY_TOKEN": ""}
    assert sorted(environment_secrets(environ)) == sorted(
        v for k, v in environ.items() if k not in ("PWD", "HOME", "EMPTY_TOKEN"))
    redact = Redactor(environ=environ)
    text = " ".join(environ.values())
    assert redact(text) == " ".join([MASK] * 4 + ["/srv/app", "/home/ci", ""])
