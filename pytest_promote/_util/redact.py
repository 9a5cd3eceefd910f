"""The one redactor every string passes before it leaves a promotion run.

Gates quote what tools say, and tools quote source code: pyright names a literal's
type (``Literal['AKIA...']``), ruff a repeated dictionary key, a command gate the
tail of its output, the health gate its URL once ``$TOKEN`` is expanded. Every
output (the gate items' messages on the terminal and in JUnit, the JSON report,
the Markdown summary, GitHub annotations, pytest's cache, the ledger) is passed
through :class:`Redactor`, which masks:

(a) every secret value the ``secrets`` gate found in this run (``add``);
(b) whatever detect-secrets' own plugins flag in the outgoing text itself, line by
    line, with all of its plugins enabled (as ``detect-secrets scan --string``);
(c) the user and password of a URL and the values of its query parameters.

Masking errs on the side of hiding: a flagged value is masked wherever it appears.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any

from pytest_promote.api import GateResult

#: What a masked value is replaced with.
MASK = "[REDACTED]"
#: Found secrets shorter than this are not masked everywhere (too many false hits).
MIN_LENGTH = 4
#: The file name detect-secrets' plugins are told the text comes from.
FILENAME = "promote-output"

_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`|]+")
_USERINFO = re.compile(r"^(?P<scheme>[^:]+://)(?P<userinfo>[^@/?#]*)@")
_QUERY_VALUE = re.compile(r"(?P<key>[?&;][^=&;#\s]*=)(?P<value>[^&;#\s]*)")


def url_credentials(text: str) -> str:
    """``text`` with each URL's user, password and query parameter values masked."""
    return _URL.sub(lambda m: _mask_url(m.group(0)), text)


def _mask_url(url: str) -> str:
    def userinfo(match: re.Match[str]) -> str:
        user, colon, _ = match["userinfo"].partition(":")
        shown = f"{user}:{MASK}" if colon else MASK  # a lone token is the credential
        return f"{match['scheme']}{shown}@"

    url = _USERINFO.sub(userinfo, url, count=1)
    head, mark, query = url.partition("?")
    if not mark:
        return url
    masked = _QUERY_VALUE.sub(
        lambda m: m["key"] + (MASK if m["value"] else ""), "?" + query
    )
    return head + masked


class Redactor:
    """Masks secrets in text; one per run, fed the secrets the run finds."""

    def __init__(self) -> None:
        self._known: set[str] = set()
        self._pattern: re.Pattern[str] | None = None
        self._memo: dict[str, str] = {}
        self._plugins: Plugins | None = None

    def add(self, secrets: Iterable[str]) -> None:
        """Mask these values from now on (those shorter than :data:`MIN_LENGTH` aside)."""
        new = {s for s in secrets if len(s) >= MIN_LENGTH} - self._known
        if new:
            self._known |= new
            longest_first = sorted(self._known, key=len, reverse=True)
            self._pattern = re.compile("|".join(map(re.escape, longest_first)))
            self._memo.clear()

    def __call__(self, text: str) -> str:
        """``text`` with (a) found secrets, (b) what detect-secrets flags and (c) URL
        credentials masked."""
        if not text:
            return text
        done = self._memo.get(text)
        if done is None:
            done = url_credentials(text)
            if self._pattern is not None:
                done = self._pattern.sub(MASK, done)
            done = self._flagged(done)
            self._memo[text] = self._memo[done] = done  # masking what is masked changes nothing
        return done

    def _flagged(self, text: str) -> str:
        if self._plugins is None:
            self._plugins = Plugins()
        return self._plugins.mask(text)

    def value(self, value: Any) -> Any:
        """Strings in ``value`` (nested lists, tuples and dicts, as JSON holds) masked."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.value(v) for v in value)
        return value

    def result(self, result: GateResult) -> GateResult:
        """A gate result with its summary, figures and findings masked."""
        findings = tuple(
            dataclasses.replace(f, message=self(f.message), rule=self(f.rule))
            for f in result.findings
        )
        return dataclasses.replace(
            result, summary=self(result.summary), measured=self.value(result.measured),
            threshold=self.value(result.threshold), findings=findings,
            figures=self.value(dict(result.figures)) if result.figures else result.figures,
        )


@dataclasses.dataclass(frozen=True)
class _Plugin:
    """A plugin, its screen (None: it sees every line), the screen for whole texts,
    and whether the screen is the plugin's own expressions (a match is the secret)."""

    plugin: Any
    screen: tuple[re.Pattern[str], ...] | None
    whole: tuple[re.Pattern[str], ...] | None
    own: bool


class Plugins:
    """detect-secrets' plugins, all enabled, asked about one line at a time.

    Asking every plugin about every line is slow (about a millisecond a line), so
    each plugin has a screen, expressions a line must match for the plugin to find
    anything in it (see ``gates/secrets/worker.screens``); a plugin whose screen finds
    nothing in the whole text is not asked at all. Without detect-secrets installed
    only (a) and (c) apply.
    """

    def __init__(self) -> None:
        self.plugins: list[_Plugin] = []
        try:
            from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
        except ImportError:
            return
        from pytest_promote.gates.secrets.worker import screens

        # Made directly, not from detect-secrets' global settings (which a scan in
        # this process could be using): every plugin with its default settings.
        made = [kind() for kind in get_mapping_from_secret_type_to_class().values()]
        for plugin, own in screens(made):
            screen = own or _screen(plugin)
            # The same expressions over a whole text: a line's match is a match there
            # too (``^`` and ``$`` at each line; a line break is the non-word it ends).
            whole = None if screen is None else tuple(
                re.compile(e.pattern, e.flags | re.MULTILINE) for e in screen
            )
            self.plugins.append(_Plugin(plugin, screen, whole, own is not None))

    def mask(self, text: str) -> str:
        """``text`` with every value a plugin flags in one of its lines masked."""
        active = [
            p for p in self.plugins if p.whole is None or any(e.search(text) for e in p.whole)
        ]
        if not active:
            return text
        return "".join(_mask_line(line, active) for line in text.splitlines(keepends=True))


def _mask_line(line: str, active: list[_Plugin]) -> str:
    stripped = line.rstrip("\r\n")
    found: set[str] = set()
    for entry in active:
        if entry.screen is not None and not any(e.search(stripped) for e in entry.screen):
            continue
        values = {
            s.secret_value
            for s in entry.plugin.analyze_line(filename=FILENAME, line=stripped, line_number=0)
            if s.secret_value
        }
        found |= values
        if values and entry.own and entry.screen is not None:
            # A regex plugin may report only a group of its match (GitHub tokens: just
            # the ``ghp`` prefix): the whole match holding a reported value goes too.
            found |= {
                m.group(0) for e in entry.screen for m in e.finditer(stripped)
                if any(v in m.group(0) for v in values)
            }
    for value in sorted(found, key=len, reverse=True):
        line = line.replace(value, MASK)
    return line


def _screen(plugin: Any) -> tuple[re.Pattern[str], ...] | None:
    """A screen for the plugins ``screens`` leaves unscreened, where one is known:
    the high-entropy plugins find only quoted strings (their ``regex``, without
    eager search), the keyword plugin only after one of its keywords, the JWT
    plugin only its ``denylist`` matches. Others (custom plugins) see every line."""
    from detect_secrets.plugins import keyword
    from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin
    from detect_secrets.plugins.jwt import JwtTokenDetector

    if isinstance(plugin, HighEntropyStringsPlugin) and isinstance(plugin.regex, re.Pattern):
        return (plugin.regex,)
    if isinstance(plugin, keyword.KeywordDetector):
        return (re.compile(keyword.DENYLIST_REGEX, re.IGNORECASE),)
    if isinstance(plugin, JwtTokenDetector):
        return tuple(plugin.denylist)
    return None


#: The redactor for text that leaves before a run exists (usage errors); it knows
#: no found secret, so it masks (b) and (c) only.
_plain: Redactor | None = None


def plain(text: str) -> str:
    """``text`` with what detect-secrets flags and URL credentials masked."""
    return plain_value(text)


def plain_value(value: Any) -> Any:
    """The strings in ``value`` masked as :func:`plain` masks text."""
    global _plain
    if _plain is None:
        _plain = Redactor()
    return _plain.value(value)
