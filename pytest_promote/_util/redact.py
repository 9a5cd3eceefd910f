"""The one redactor: secrets are masked in the free text that leaves a promotion run.

Gates quote what tools say, and tools quote source code: pyright names a literal's
type (``Literal['AKIA...']``, cut at 50 characters and ``…``), ruff a repeated
dictionary key, a command gate the tail of its output, the health gate its URL once
``$TOKEN`` is expanded. That free text (tool messages, command output, finding
messages, gate summaries, override reasons, environment values) passes a
:class:`Redactor` where it enters the run, which masks:

(a) the secrets the ``secrets`` gate found in this run (``add``), and the values of
    environment variables whose names look secret (``*TOKEN*``, ``*SECRET*``,
    ``*KEY*``, ``*PASSWORD*``, any case);
(b) whatever detect-secrets' own plugins flag in the text itself, line by line, with
    all of its plugins enabled (as ``detect-secrets scan --string``);
(c) the user and password of a URL and the values of its query parameters.

A known secret is masked where it stands as a value, not inside other words: one of
:data:`LONG` characters or more wherever it appears, and any run of :data:`RUN` of
its characters too (a tool that cuts it still shows none of it); a shorter one only
as a whole token; and any of them, whatever its length, as a whole token where a
finding on the line it was found on quotes code (the secrets gate's own findings
quote the line with its secrets already masked). A secret that is also a word of the
plugin's vocabulary (a status, a gate id, a stage name, ...) is masked only there:
the word shows everywhere anyway, so hiding it elsewhere would hide nothing and
corrupt our own text.

The structure of every output (ids, statuses, modes, colours, numbers, thresholds,
stage names, digests, paths, line numbers, keys) is made from typed values and never
passes the redactor, so no secret can rewrite a record.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any

from pytest_promote.result import Finding, GateResult, Secret

#: What a masked value is replaced with.
MASK = "[REDACTED]"
#: Known secrets this long or longer are masked wherever they appear; shorter ones
#: only as whole tokens.
LONG = 8
#: Any run of this many characters of a longer known secret is masked, wherever it
#: appears (a prefix a tool cut, a suffix, the middle).
RUN = 12
#: Known secrets shorter than this are masked only on their own line.
MIN_LENGTH = 4
#: The file name detect-secrets' plugins are told the text comes from.
FILENAME = "promote-output"
#: Environment variables whose values are secrets: names holding one of these words.
SECRET_NAME = re.compile(r"TOKEN|SECRET|KEY|PASSWORD", re.IGNORECASE)

#: Words of the plugin's own outputs, besides the run's gate ids, stage names and
#: component names: a secret equal to one (any case) is masked only on its own line,
#: since the word shows in every run's text anyway and masking it would only garble it.
VOCABULARY = frozenset({
    "passed", "failed", "error", "errors", "not", "run", "overridden", "skipped", "xfailed",
    "required", "advisory", "green", "yellow", "red", "accept", "accepts", "accepted",
    "rejected", "verdict", "unsigned", "signed", "trusted", "untrusted", "ok", "with",
    "override", "overrides", "gate", "gates", "stage", "stages", "mode", "status", "colour",
    "measured", "threshold", "summary", "findings", "finding", "message", "rule", "file",
    "files", "line", "col", "figures", "cached", "duration", "reasons", "caveats", "component",
    "components", "commit", "branch", "tree", "time", "policy", "digest", "signature",
    "attestation", "environment", "dirty", "partial", "selection", "shards", "schema",
    "ledger", "record", "recorded", "statement", "predicate", "subject", "result", "promote",
    "promotion", "scorecard", "tests", "test", "lint", "types", "secrets", "secret",
    "potential", "baseline", "coverage", "invariants", "artifacts", "command", "drift",
    "provenance", "deps", "approval", "health", "metrics", "freeze", "path", "sbom", "new",
    "allowed", "for", "and", "no", "all", "none", "null", "true", "false", "yes", "redacted",
    "text", "excluded", "audit", "them", "left", "out", "suite", "terminated", "by",
})

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


def environment_secrets(environ: Mapping[str, str]) -> list[str]:
    """The values of the variables of ``environ`` whose names look secret."""
    return [value for name, value in environ.items() if value and SECRET_NAME.search(name)]


#: Where a whole token begins and ends: not next to a letter, digit or underscore.
_BEFORE, _AFTER = r"(?<![0-9A-Za-z_])", r"(?![0-9A-Za-z_])"


def _alternation(values: Iterable[str], whole: bool) -> re.Pattern[str] | None:
    ordered = sorted(set(values), key=lambda v: (-len(v), v))  # the longest wins
    if not ordered:
        return None
    body = "|".join(map(re.escape, ordered))
    return re.compile(f"{_BEFORE}(?:{body}){_AFTER}" if whole else body)


class Redactor:
    """Masks secrets in free text; one per run, fed the secrets the run finds.

    ``vocabulary``: the run's own words (gate ids, stage and component names) beside
    :data:`VOCABULARY`. ``environ``: where secret-looking variables are read from
    (default: this process's environment).
    """

    def __init__(self, vocabulary: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> None:
        self._vocabulary = {w.casefold() for w in (*VOCABULARY, *vocabulary)}
        self._anywhere: set[str] = set()  # long secrets: masked wherever they appear
        self._tokens: set[str] = set()  # short ones: masked as whole tokens
        self._runs: set[str] = set()  # every RUN-character run of a long secret
        self._at: dict[tuple[str, int], set[str]] = {}  # (file, line) -> secrets found there
        self._long: re.Pattern[str] | None = None
        self._short: re.Pattern[str] | None = None
        self._memo: dict[tuple[str, tuple[str, int] | None], str] = {}
        self._plugins: Plugins | None = None
        self.add(environment_secrets(os.environ if environ is None else environ))

    def add(self, secrets: Iterable[str | Secret]) -> None:
        """Mask these values from now on (a :class:`Secret` also on its own line)."""
        changed = False
        for found in secrets:
            secret = found if isinstance(found, Secret) else Secret(found)
            value = secret.value
            if not value.strip() or value in MASK:
                continue  # masking these would only mangle the text (or the mask)
            if secret.file is not None and secret.line is not None:
                here = self._at.setdefault((secret.file, secret.line), set())
                changed |= value not in here
                here.add(value)
            if value.casefold() in self._vocabulary or len(value) < MIN_LENGTH:
                continue
            if len(value) >= RUN:
                runs = {value[i:i + RUN] for i in range(len(value) - RUN + 1)}
                changed |= not runs <= self._runs
                self._runs |= runs
            kind = self._anywhere if len(value) >= LONG else self._tokens
            changed |= value not in kind
            kind.add(value)
        if changed:
            self._long = _alternation(self._anywhere, whole=False)
            self._short = _alternation(self._tokens, whole=True)
            self._memo.clear()

    def __call__(self, text: str, at: tuple[str, int] | None = None) -> str:
        """``text`` with (a) known secrets, (b) what detect-secrets flags and (c) URL
        credentials masked; ``at``: the file and line the text is about (a finding's),
        where secrets found on that line are masked whatever they are."""
        if not text:
            return text
        key = (text, at if at in self._at else None)
        done = self._memo.get(key)
        if done is None:
            done = url_credentials(text)
            if key[1] is not None:
                done = _mask_line_secrets(done, self._at[key[1]])
            if self._long is not None:
                done = self._long.sub(MASK, done)
            if self._runs:
                done = self._mask_runs(done)
            if self._short is not None:
                done = self._short.sub(MASK, done)
            done = self._flagged(done)
            self._memo[key] = self._memo[(done, key[1])] = done  # masking what is masked changes nothing
        return done

    def _mask_runs(self, text: str) -> str:
        """``text`` with every stretch made of :data:`RUN`-character runs of a long
        secret masked (overlapping runs are one stretch)."""
        spans: list[list[int]] = []
        for i in range(len(text) - RUN + 1):
            if text[i:i + RUN] in self._runs:
                if spans and i <= spans[-1][1]:
                    spans[-1][1] = i + RUN
                else:
                    spans.append([i, i + RUN])
        for begin, end in reversed(spans):
            text = text[:begin] + MASK + text[end:]
        return text

    def _flagged(self, text: str) -> str:
        if self._plugins is None:
            self._plugins = Plugins()
        return self._plugins.mask(text)

    def value(self, value: Any) -> Any:
        """Strings in ``value`` (nested lists, tuples and dicts, as JSON holds) masked;
        for free text only (an environment, a table of tool output), never a record."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return type(value)(self.value(v) for v in value)
        return value

    def finding(self, finding: Finding) -> Finding:
        """A finding with its message masked (on its own line, secrets found there too);
        its file, line, column and rule are structure and stay."""
        at = (finding.file, finding.line) if finding.file and finding.line is not None else None
        return dataclasses.replace(finding, message=self(finding.message, at))

    def result(self, result: GateResult) -> GateResult:
        """A gate result with its free text masked: the summary and each finding's
        message. Its status, figures, measure and threshold are typed values the
        gate made, never text from outside, and stay as they are."""
        return dataclasses.replace(
            result, summary=self(result.summary),
            findings=tuple(self.finding(f) for f in result.findings),
        )


#: Where a tool's message quotes the code of a line: a quoted or backticked span.
_QUOTED = re.compile(r"`[^`\n]*`|\"[^\"\n]*\"|'[^'\n]*'")


def _mask_line_secrets(text: str, secrets: set[str]) -> str:
    """``text`` with each of ``secrets`` masked as a whole token where the message
    quotes code (what the tool says around it is its own vocabulary)."""
    pattern = _alternation(secrets, whole=True)
    assert pattern is not None
    return _QUOTED.sub(lambda m: pattern.sub(MASK, m.group(0)), text)


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


#: The redactor for text that leaves before a run exists (usage errors, the command
#: line tools); it knows no found secret, so it masks secret-looking environment
#: values, (b) and (c).
_plain: Redactor | None = None


def mask_text(text: str) -> str:
    """``text`` with secret environment values, what detect-secrets flags and URL
    credentials masked."""
    return mask_value(text)


def mask_value(value: Any) -> Any:
    """The strings in ``value`` masked as :func:`mask_text` masks text."""
    global _plain
    if _plain is None:
        _plain = Redactor()
    return _plain.value(value)
