"""The health gate against a real HTTP server on the loopback interface."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator

import pytest

HEALTHY = {"status": "ok", "checks": [{"name": "db", "ok": True}, {"name": "cache", "ok": False}]}


class Service:
    """A service that answers 503 for its first ``warmup`` requests, then recovers."""

    def __init__(self) -> None:
        self.warmup = 0
        self.hits = 0
        self.url = ""
        self.delay = 0.0

    def respond(self, handler: http.server.BaseHTTPRequestHandler) -> None:
        self.hits += 1
        if handler.path == "/slow":
            time.sleep(self.delay)
        if self.hits <= self.warmup or handler.path == "/down":
            status, body = 503, "service unavailable: " + "still warming up " * 30
        elif handler.path == "/text":
            status, body = 200, "all good"
        elif handler.path == "/moved":
            status, body = 302, "moved"
        else:
            status, body = 200, json.dumps(HEALTHY)
        data = body.encode()
        handler.send_response(status)
        if status == 302:
            handler.send_header("Location", "/healthz")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)


@pytest.fixture
def service() -> Iterator[Service]:
    state = Service()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.respond(self)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output clean

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def policy(gate: str, stage: str = "") -> str:
    return (
        '[tool.promote]\nstages = ["staging"]\n'
        f'[tool.promote.gates.api-health]\nkind = "health"\nbackoff = 0.05\ntimeout = 10\n{gate}\n'
        f'[tool.promote.stage.staging]\nrequired = ["api-health"]\n{stage}'
    )


def test_a_service_that_fails_first_then_recovers_passes(
    pytester: pytest.Pytester, service: Service
) -> None:
    service.warmup = 2
    pytester.makepyprojecttoml(policy(f'url = "{service.url}/healthz"\nretries = 3'))
    result = pytester.runpytest("--promote-to=staging")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*api-health*required*passed*measured 200, threshold 200*"])
    assert service.hits == 3


def test_a_service_that_stays_down_fails_with_status_and_body(
    pytester: pytest.Pytester, service: Service
) -> None:
    pytester.makepyprojecttoml(policy(f'url = "{service.url}/down"\nretries = 2'))
    result = pytester.runpytest("--promote-to=staging")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            f"api-health: GET {service.url}/down -> 503 after 3 attempt(s) in *s; "
            "200 required for staging",
            "body: service unavailable: still warming up still warming up *...",
        ]
    )
    assert service.hits == 3


@pytest.mark.parametrize(
    ("check", "passes", "problem"),
    [
        ('field = "checks[name=db].ok"\nvalue = true', True, ""),
        (
            'field = "checks[name=cache].ok"\nvalue = true',
            False,
            "200, checks[[]name=cache[]].ok = false",
        ),
        ('field = "checks[1].ok"', True, ""),
        ('field = "checks[2].ok"', False, "200, checks has 2 element(s), no [[]2[]]"),
        ('field = "status"\nvalue = "ok"\ncontains = "db"', True, ""),
        ('contains = "degraded"', False, "200, body lacks 'degraded'"),
    ],
)
def test_body_checks(
    pytester: pytest.Pytester, service: Service, check: str, passes: bool, problem: str
) -> None:
    pytester.makepyprojecttoml(policy(f'url = "{service.url}/healthz"\nretries = 1\n{check}'))
    result = pytester.runpytest("--promote-to=staging")
    if passes:
        result.assert_outcomes(passed=2)
    else:
        result.assert_outcomes(failed=2)
        result.stdout.fnmatch_lines([f"api-health: GET * -> {problem} after 2 attempt(s)*"])


def test_a_json_field_on_a_text_body_fails(pytester: pytest.Pytester, service: Service) -> None:
    pytester.makepyprojecttoml(policy(f'url = "{service.url}/text"\nretries = 0\nfield = "status"'))
    result = pytester.runpytest("--promote-to=staging")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*-> 200, body is not JSON after 1 attempt(s)*", "body: all good"])


def test_nothing_listening_is_an_error(pytester: pytest.Pytester, service: Service) -> None:
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    pytester.makepyprojecttoml(policy(f'url = "http://127.0.0.1:{port}/"\nretries = 1'))
    result = pytester.runpytest("--promote-to=staging", f"--promote-report={pytester.path}/r.json")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(["*-> no response (*refused*) after 2 attempt(s)*"])
    gate = json.loads((pytester.path / "r.json").read_text())["gates"][0]
    assert (gate["status"], gate["measured"]) == ("error", "no response")


def test_the_overall_timeout_bounds_the_retries(
    pytester: pytest.Pytester, service: Service
) -> None:
    service.delay = 1.0
    pytester.makepyprojecttoml(
        policy(f'url = "{service.url}/slow"\nretries = 50').replace("timeout = 10", "timeout = 0.4")
    )
    result = pytester.runpytest("--promote-to=staging")
    result.assert_outcomes(failed=2)
    # One attempt of the 51 allowed: the overall timeout ended the retries (no clock
    # read here: on a busy machine a run's wall time says nothing).
    result.stdout.fnmatch_lines(
        ["*-> no response (*timed out*) after 1 attempt(s) in *s; 200 required for staging"]
    )


def test_the_url_can_come_from_the_environment(
    pytester: pytest.Pytester, service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester.makepyprojecttoml(policy('url = "${DEPLOY_URL}/healthz"'))
    monkeypatch.delenv("DEPLOY_URL", raising=False)
    result = pytester.runpytest("--promote-to=staging")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        ["*url '${DEPLOY_URL}/healthz': an environment variable in it is not set"]
    )
    monkeypatch.setenv("DEPLOY_URL", service.url)
    pytester.runpytest("--promote-to=staging").assert_outcomes(passed=2)


@pytest.mark.parametrize(
    ("gate", "message"),
    [
        ("", "health needs a `url`*"),
        ('url = "file:///etc/passwd"', "*'file:///etc/passwd' is not an http:// or https:// URL"),
        ('url = "http://127.0.0.1/"\nvalue = 1', "*`value` needs a `field`*"),
        ('url = "http://127.0.0.1/"\nretries = -1',
         ".retries = -1: out of range: use a number from 0 to 100"),
    ],
)
def test_bad_options_are_usage_errors(pytester: pytest.Pytester, gate: str, message: str) -> None:
    pytester.makepyprojecttoml(policy(gate))
    result = pytester.runpytest("--promote-to=staging")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*: gates.api-health*{message}"])


def test_health_by_its_kind_name_needs_a_table(pytester: pytest.Pytester) -> None:
    pytester.makepyprojecttoml(
        '[tool.promote]\nstages = ["s"]\n[tool.promote.stage.s]\nrequired = ["health"]\n'
    )
    result = pytester.runpytest("--promote-to=s")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*: gates.health = {}: health needs a `url`*"])


def test_a_redirect_is_judged_not_followed_unless_told(
    pytester: pytest.Pytester, service: Service
) -> None:
    pytester.makepyprojecttoml(policy(f'url = "{service.url}/moved"\nretries = 0'))
    result = pytester.runpytest("--promote-to=staging")
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines([
        f"api-health: GET {service.url}/moved -> 302, a redirect (follow_redirects = true "
        "follows it) after 1 attempt(s) in *s; 200 required for staging",
    ])
    assert service.hits == 1
    pytester.makepyprojecttoml(
        policy(f'url = "{service.url}/moved"\nretries = 0\nfollow_redirects = true')
    )
    pytester.runpytest("--promote-to=staging").assert_outcomes(passed=2)
    assert service.hits == 3  # the redirect, then where it points
