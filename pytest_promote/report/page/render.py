"""The page itself: one HTML file with its styles and charts inline (no script, font,
image or request to anything else), written atomically as ``DIR/index.html``."""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pytest_promote._util.files import write_atomic
from pytest_promote.ledger.records import Record
from pytest_promote.ledger.signing import dsse
from pytest_promote.report.page import charts
from pytest_promote.report.page.history import LABELS, History

#: The file a page directory holds.
INDEX = "index.html"
#: What the scorecard shows of each gate (a record without a statement has only
#: ``id`` and ``status``; the others then show empty).
GATE_KEYS = ("id", "mode", "status", "measured", "threshold", "overridden")


def repository_url(environ: Mapping[str, str], commit: str | None) -> str | None:
    """Where the CI says the repository's files of ``commit`` are browsed (GitHub
    Actions, GitLab CI), or None (links then point at the checkout)."""
    if not commit:
        return None
    if environ.get("GITHUB_SERVER_URL") and environ.get("GITHUB_REPOSITORY"):
        return f"{environ['GITHUB_SERVER_URL']}/{environ['GITHUB_REPOSITORY']}/blob/{commit}/"
    if environ.get("CI_PROJECT_URL"):
        return f"{environ['CI_PROJECT_URL']}/-/blob/{commit}/"
    return None


def scorecard(report: Mapping[str, Any], origin: str, link: Any) -> dict[str, Any]:
    """A JSON report (or a statement's predicate) as the page's scorecard: its gates,
    and its findings grouped by file, each with a link to ``file:line``."""
    colour = str(report.get("colour") or "")
    accepted = bool(report.get("accepted"))
    files: dict[str, list[dict[str, Any]]] = {}
    for gate in report.get("gates") or ():
        # A statement's gate holds a digest of its findings, not the list.
        found = gate.get("findings") if isinstance(gate, Mapping) else None
        for finding in found if isinstance(found, list) else ():
            if not isinstance(finding, Mapping):
                continue
            where = str(finding.get("file") or "(no file)")
            files.setdefault(where, []).append({
                **finding, "gate": gate.get("id"),
                "href": link(finding.get("file"), finding.get("line")),
            })
    return {
        "stage": report.get("stage"),
        "component": report.get("component"),
        "colour": colour,
        "label": LABELS.get(colour, colour.upper()) + ("" if accepted else " not accepted"),
        "accepted": accepted,
        "verdict": report.get("verdict"),
        "reasons": list(report.get("reasons") or ()),
        "caveats": list(report.get("caveats") or ()),
        "gates": [
            {key: gate.get(key) for key in GATE_KEYS} for gate in report.get("gates") or ()
            if isinstance(gate, Mapping)
        ],
        "files": sorted(files.items()),
        "origin": origin,
    }


def from_record(record: Record) -> Mapping[str, Any]:
    """What a ledger record says of its run: its statement's predicate when it carries
    one (gates with measured and threshold), else its gate statuses."""
    try:
        envelope = dsse.parse(record.attestation) if record.attestation else None
        predicate = json.loads(envelope.payload)["predicate"] if envelope else None
    except (ValueError, KeyError, TypeError):
        predicate = None
    if isinstance(predicate, dict) and isinstance(predicate.get("gates"), list):
        return {**predicate, "accepted": record.accepted, "colour": record.colour}
    return {
        "stage": record.stage, "component": record.component, "colour": record.colour,
        "accepted": record.accepted, "verdict": record.headline, "caveats": list(record.caveats),
        "gates": [{"id": gid, "status": status} for gid, status in record.gates.items()],
    }


def linker(root: Path, out: Path, base: str | None) -> Any:
    """A function ``(file, line) -> href``: into the repository's web view when the CI
    names one, else relative from the page to the file in the checkout."""
    def link(file: str | None, line: int | None) -> str | None:
        if not file:
            return None
        anchor = f"#L{line}" if line else ""
        if base:
            return base + file + anchor
        return Path(os.path.relpath(root / file, out)).as_posix()
    return link


def require_jinja(option: str) -> None:
    """A UsageError when the page cannot be drawn: Jinja2 comes with the [html] extra."""
    import importlib.util

    import pytest

    if importlib.util.find_spec("jinja2") is None:
        raise pytest.UsageError(
            f"{option}: drawing the page needs Jinja2; install it with "
            "pip install 'pytest-promote[html]'"
        )


def page(
    title: str, head: str | None, cards: Sequence[dict[str, Any]], history: History
) -> str:
    """The page's HTML."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("pytest_promote.report.page", "."),
        autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
    )
    template = env.get_template("page.html.j2")
    return template.render(
        title=title, head=head, cards=cards, history=history,
        charts=[(s, charts.line(f"{s.gate} {s.figure} at {s.stage}", s.points)) for s in history.trends],
        generated=datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
    )


def write(out: Path, html: str) -> Path:
    """Write the page as ``out/index.html`` (the directory made when missing)."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / INDEX
    write_atomic(target, html)
    return target
