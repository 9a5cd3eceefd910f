"""GitHub Actions workflow commands: one annotation per finding of a failed gate."""

from __future__ import annotations

from pytest_promote.scorecard import Verdict


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")


def lines(verdict: Verdict) -> list[str]:
    """``::error``/``::warning`` commands; advisory and overridden gates give warnings."""
    out = []
    for gate in verdict.gates:
        result = gate.result
        if result is None or result.status == "passed":
            continue
        level = "error" if gate.mode == "required" and not gate.overridden else "warning"
        title = _prop(f"promote {gate.id}")
        # Findings tied to no file read as details of the summary, which says what
        # failed and what to do: one annotation holds them all.
        loose = [f.message for f in result.findings if not f.file]
        if loose or not result.findings:
            text = "\n".join([result.summary, *loose])
            out.append(f"::{level} title={title}::{_data(text)}")
        for f in (f for f in result.findings if f.file):
            props = [f"file={_prop(f.file)}"] if f.file else []
            if f.file and f.line is not None:
                props.append(f"line={f.line}")
                if f.col is not None:
                    props.append(f"col={f.col}")
            props.append(f"title={title}")
            message = f"{f.rule} {f.message}" if f.rule else f.message
            out.append(f"::{level} {','.join(props)}::{_data(message)}")
    return out
