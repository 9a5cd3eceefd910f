"""``health``: an HTTP(S) GET answers as expected, within retries and a deadline.

Post-deployment and observability checks: the status (default 200), optionally a substring of the body
or a JSON field's value. A service that is still starting gets retries with
exponential backoff, all inside one overall ``timeout``.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import Future
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from pytest_promote._util import jsonpath
from pytest_promote._util.background import in_background
from pytest_promote.api import Gate, GateResult
from pytest_promote.policy.schema import bounded, timeout

BODY_LIMIT = 1 << 20  # read at most 1 MiB of a response
EXCERPT = 200


@dataclasses.dataclass(frozen=True)
class HealthOptions:
    """``[tool.promote.gates.<id>]`` of kind ``health``."""

    url: str = ""
    status: int = bounded(200, 100, 599)
    contains: str | None = None
    field: str | None = None
    value: str | int | float | bool | None = None
    retries: int = bounded(3, 0, 100)
    backoff: float = bounded(0.5, 0, 3600)
    timeout: float = timeout(30.0)
    after_tests: bool = False
    #: Follow HTTP redirects (3xx) to where they point; by default a redirect is the
    #: answer judged (a health endpoint that moved is worth knowing about).
    follow_redirects: bool = False

    def __post_init__(self) -> None:
        if not self.url:
            raise ValueError('health needs a `url`, e.g. url = "https://example.org/healthz"')
        if "$" not in self.url:
            _check_scheme(self.url)
        if self.field is not None:
            jsonpath.parse(self.field)
        elif self.value is not None:
            raise ValueError(
                "`value` needs a `field` (a path into the JSON body, e.g. 'checks.db')"
            )


def _check_scheme(url: str) -> None:
    if urlsplit(url).scheme not in ("http", "https") or not urlsplit(url).netloc:
        raise ValueError(f"{url!r} is not an http:// or https:// URL")


@dataclasses.dataclass(frozen=True)
class Probe:
    """What one GET (or the last of several) answered."""

    status: int | None
    problem: str | None  # None: healthy
    body: str = ""
    attempts: int = 1
    elapsed: float = 0.0


class HealthGate(Gate):
    """Polls the URL until it answers as expected, or the retries or time run out."""

    Options = HealthOptions
    title = "health"

    def start(self) -> None:
        """Begin polling now, overlapping the tests, unless it waits for them."""
        self._future: Future[Probe] | None = None
        if not self.options.after_tests:
            self._future = in_background(self._poll, self.id)

    def evaluate(self) -> GateResult:
        """Judge the last answer; the summary shows its status and a body excerpt."""
        opts: HealthOptions = self.options
        if self._future is None:
            self._future = in_background(self._poll, self.id)
        try:
            # _poll keeps its own deadline; the margin covers a request's last timeout
            probe = self._future.result(timeout=opts.timeout * 2 + 5)
        except ValueError as exc:
            return GateResult.error(f"{self.id}: {exc}")
        except TimeoutError:
            return GateResult.error(f"{self.id}: the check did not finish within {opts.timeout:g}s")
        url = os.path.expandvars(opts.url)
        want = f"{opts.status}" + self._body_rule()
        measured = probe.status if probe.status is not None else "no response"
        tries = f"{probe.attempts} attempt(s) in {probe.elapsed:.1f}s"
        if probe.problem is None:
            return GateResult.passed(
                f"{self.id}: GET {url} -> {probe.status} ({tries})",
                measured=measured,
                threshold=want,
            )
        summary = (
            f"{self.id}: GET {url} -> {probe.problem} after {tries}; "
            f"{want} required for {self.context.stage}"
        )
        if probe.body:
            summary += f"\nbody: {probe.body}"
        if probe.status is None:
            # nothing answered at all: the check could not be evaluated
            return GateResult.error(summary, measured=measured, threshold=want)
        return GateResult.failed(summary, measured=measured, threshold=want)

    def _body_rule(self) -> str:
        opts: HealthOptions = self.options
        rule = ""
        if opts.contains is not None:
            rule += f", body contains {opts.contains!r}"
        if opts.field is not None:
            rule += (
                f", {opts.field} = {json.dumps(opts.value)}"
                if opts.value is not None
                else (f", {opts.field} present")
            )
        return rule

    def _poll(self) -> Probe:
        opts: HealthOptions = self.options
        url = os.path.expandvars(opts.url)
        if "$" in url:
            raise ValueError(f"url {opts.url!r}: an environment variable in it is not set")
        _check_scheme(url)
        began = time.monotonic()
        deadline = began + opts.timeout
        delay = opts.backoff
        attempt = 0
        probe = Probe(None, "no attempt made")
        while attempt <= opts.retries:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            attempt += 1
            probe = self._probe(url, remaining)
            if probe.problem is None or attempt > opts.retries:
                break
            time.sleep(max(0.0, min(delay, deadline - time.monotonic())))
            delay *= 2
        return dataclasses.replace(probe, attempts=attempt, elapsed=time.monotonic() - began)

    def _probe(self, url: str, timeout: float) -> Probe:
        headers = {"User-Agent": "pytest-promote health"}
        parts = urlsplit(url)
        if parts.username is not None:  # user:password@ in the URL: HTTP basic auth
            pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}"
            headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
            url = urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
        request = urllib.request.Request(url, headers=headers)
        handlers = [] if self.options.follow_redirects else [_NoRedirect()]
        try:
            with urllib.request.build_opener(*handlers).open(request, timeout=timeout) as response:
                status, raw = response.status, response.read(BODY_LIMIT)
        except urllib.error.HTTPError as exc:  # a status outside 2xx still answered
            status, raw = exc.code, exc.read(BODY_LIMIT)
            if 300 <= status < 400 and status != self.options.status:
                problem = f"{status}, a redirect (follow_redirects = true follows it)"
                return Probe(status, problem, _excerpt(raw.decode("utf-8", "replace")))
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            return Probe(None, f"no response ({reason})")
        body = raw.decode("utf-8", "replace")
        return Probe(status, self._judge(status, body), _excerpt(body))

    def _judge(self, status: int, body: str) -> str | None:
        opts: HealthOptions = self.options
        if status != opts.status:
            return f"{status}"
        if opts.contains is not None and opts.contains not in body:
            return f"{status}, body lacks {opts.contains!r}"
        if opts.field is None:
            return None
        try:
            actual = jsonpath.get(json.loads(body), opts.field)
        except json.JSONDecodeError:
            return f"{status}, body is not JSON"
        except jsonpath.PathError as exc:
            return f"{status}, {exc}"
        if opts.value is not None and not _same(actual, opts.value):
            return f"{status}, {opts.field} = {json.dumps(actual)[:60]}"
        return None


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Redirects are not followed: the 3xx answer itself is judged."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _same(actual: Any, expected: Any) -> bool:
    # JSON true is not 1, and "1" is not 1: compare like JSON does
    if isinstance(actual, bool) or isinstance(expected, bool):
        return type(actual) is type(expected) and actual == expected
    return actual == expected


def _excerpt(body: str) -> str:
    flat = " ".join(body.split())
    return flat if len(flat) <= EXCERPT else flat[:EXCERPT] + "..."
