"""Differential test: pytest-promote trusts a signature for a principal exactly when
``ssh-keygen -Y verify -f FILE -I PRINCIPAL -n pytest-promote`` does.

Hypothesis writes allowed-signers files (pattern-lists with ``*``, ``?``, ``!``,
quotes; ``cert-authority``, ``namespaces``, ``valid-after``/``valid-before`` in every
form OpenSSH reads, misspelled options) over a few real keys made by ``ssh-keygen``.
Every file is asked about many principals. ``ssh-keygen``'s time goes to starting
the process (loading and initialising libcrypto, about 9 ms of CPU); verifying is a
small part, so the keys and signatures are made once, the calls for one file run at
the same time, and ``ssh-keygen`` is asked each distinct question once: its answer
for a principal depends only on the lines holding the signing key (it reads the
others and skips them), so the file it is given holds those lines, and an answer is
reused for another file whose signing-key lines are the same. pytest-promote is
always asked about the whole file, so a line of another key that changed its
decision would still show. A line pytest-promote calls malformed makes the whole file an error in a
run; here the decision is taken on the other lines, and ``ssh-keygen`` (which logs
and skips such a line) must agree: a bad line never trusts anyone.

``ssh-keygen -Y find-principals`` is not the oracle: it answers which principals a key
has (OpenSSH 9.2 prints the first matching line's, ignoring ``namespaces``), while
pytest-promote, like ``-Y verify -I``, decides one principal at a time.
"""

from __future__ import annotations

import datetime
import itertools
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pytest_promote.ledger.signing import keys, statement
from pytest_promote.ledger.signing.patterns import match_pattern_list
from pytest_promote.ledger.signing.signers import TrustProblem, parse_allowed_signers, parse_lines
from pytest_promote.policy.trust import judge

pytestmark = pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="needs ssh-keygen")

#: The moment every signature is judged at (``-Overify-time``).
WHEN = datetime.datetime(2030, 6, 15, 12, 0, 0, tzinfo=datetime.UTC)
NAMES = ["a@x", "b@x", "ab@x", "A@x", "a@y", "ci", "*@x", "a b@x", "", "b"]
PATTERNS = ["a@x", "b@x", "*@x", "?@x", "a*", "*", "!a@x", "!*@y", "A@x", "a?@x", "*b*", "a b@x", ""]
NAMESPACES = ["pytest-promote", "git", "pytest-*", "*", "!pytest-promote", "pytest-promot?", "file", "PYTEST-PROMOTE"]


def _stamp(offset: int, form: str) -> str:
    moment = WHEN + datetime.timedelta(seconds=offset)
    local = moment.astimezone()
    return {
        "seconds-utc": moment.strftime("%Y%m%d%H%M%SZ"),
        "minutes-utc": moment.strftime("%Y%m%d%H%MUTC"),
        "day-local": local.strftime("%Y%m%d"),
        "seconds-local": local.strftime("%Y%m%d%H%M%S"),
    }[form]


OFFSETS = [-86400 * 400, -3600, -1, 0, 1, 59, 3600, 86400 * 400]
FORMS = ["seconds-utc", "minutes-utc", "day-local", "seconds-local"]
times = st.builds(_stamp, st.sampled_from(OFFSETS), st.sampled_from(FORMS))
options = st.lists(
    st.one_of(
        st.sampled_from(["cert-authority", "Cert-Authority"]),
        st.builds(lambda n, v: f'{n}="{v}"', st.sampled_from(["namespaces", "NAMESPACES"]),
                  st.lists(st.sampled_from(NAMESPACES), min_size=1, max_size=3).map(",".join)),
        st.builds(lambda n, v: f'{n}="{v}"', st.sampled_from(["valid-after", "valid-before", "Valid-Before"]), times),
        st.sampled_from(['namespace="pytest-promote"', 'valid_before="20990101"', "bogus", "namespaces=git"]),
    ),
    max_size=3,
).map(",".join)


@st.composite
def lines(draw: st.DrawFn, publics: list[str]) -> str:
    principals = ",".join(draw(st.lists(st.sampled_from(PATTERNS), min_size=1, max_size=3)))
    if " " in principals or draw(st.booleans()):
        principals = f'"{principals}"'
    opts = draw(options)
    key = draw(st.sampled_from(publics))
    comment = draw(st.sampled_from(["", " a comment"]))
    return f"{principals} {opts + ' ' if opts else ''}{key}{comment}"


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str], dict, Path]:
    """Three Ed25519 keys and an ECDSA one made by ssh-keygen; the first signs: an SSHSIG signature of a
    message (what ssh-keygen checks) and a DSSE envelope (what pytest-promote checks)."""
    where = tmp_path_factory.mktemp("openssh")
    publics = []
    for n in range(3):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "", "-f", str(where / f"k{n}")],
                       check=True, capture_output=True)
        publics.append(" ".join((where / f"k{n}.pub").read_text().split()[:2]))
    # A key of another type: OpenSSH reads its lines, and it never verifies our signature.
    subprocess.run(["ssh-keygen", "-q", "-t", "ecdsa", "-N", "", "-C", "", "-f", str(where / "other")],
                   check=True, capture_output=True)
    publics.append(" ".join((where / "other.pub").read_text().split()[:2]))
    message = where / "message"
    message.write_text("a verdict\n")
    subprocess.run(["ssh-keygen", "-Y", "sign", "-q", "-f", str(where / "k0"), "-n", "pytest-promote", str(message)],
                   check=True, capture_output=True)
    key = keys.load(str(where / "k0"))
    said = statement.approval("c0ffee", "7ree", "repo", "prod", "", "now")
    return where, publics, statement.envelope(said).signed(key).as_dict(), message


def openssh_accepts(allowed: Path, principal: str, message: Path) -> bool:
    done = subprocess.run(
        ["ssh-keygen", "-Y", "verify", "-f", str(allowed), "-I", principal, "-n", "pytest-promote",
         "-s", f"{message}.sig", f"-Overify-time={WHEN:%Y%m%d%H%M%SZ}"],
        stdin=message.open("rb"), capture_output=True, text=True,
    )
    assert done.returncode in (0, 255), done.stderr
    return done.returncode == 0


COUNTER = itertools.count()
POOL = ThreadPoolExecutor(max_workers=8)
#: ssh-keygen's answers, by (the signing key's lines, principal).
ANSWERS: dict[tuple[str, str], bool] = {}
#: How many (file, principal) cases were compared, and how many ssh-keygen calls they took.
CASES = {"compared": 0, "asked": 0}


def openssh_answers(where: Path, signer: str, text: str, message: Path) -> list[bool]:
    """ssh-keygen's decision for each of NAMES on the allowed-signers ``text``."""
    relevant = "".join(line + "\n" for line in text.splitlines() if signer in line)
    todo = [name for name in NAMES if (relevant, name) not in ANSWERS]
    if todo:
        allowed = where / f"allowed_signers_{next(COUNTER)}"
        allowed.write_text(relevant)
        for name, answer in zip(todo, POOL.map(lambda name: openssh_accepts(allowed, name, message), todo),
                                strict=True):
            ANSWERS[relevant, name] = answer
        allowed.unlink()
        CASES["asked"] += len(todo)
    CASES["compared"] += len(NAMES)
    return [ANSWERS[relevant, name] for name in NAMES]


@settings(max_examples=300, deadline=None, database=None)
@given(data=st.data())
def decide_alike(signed: tuple[Path, list[str], dict, Path], data: st.DataObject) -> None:
    """One generated allowed-signers file, asked about every name in NAMES."""
    where, publics, envelope, message = signed
    text = "\n".join(data.draw(st.lists(lines(publics), min_size=1, max_size=4))) + "\n"
    allowed = where / f"allowed_signers_{next(COUNTER)}"
    allowed.write_text(text)
    good, problems = parse_lines(text)
    if problems:
        with pytest.raises(TrustProblem, match=rf"{allowed}:{problems[0][0]}: "):
            parse_allowed_signers(text, str(allowed))
    ours = [
        judge(envelope, statement.APPROVAL, "c0ffee", "7ree", good, [name], when=WHEN).state == "trusted"
        for name in NAMES
    ]
    theirs = openssh_answers(where, publics[0], text, message)
    assert dict(zip(NAMES, ours, strict=True)) == dict(zip(NAMES, theirs, strict=True)), text
    allowed.unlink()


def test_trust_decides_as_ssh_keygen_verify(signed: tuple[Path, list[str], dict, Path]) -> None:
    decide_alike(signed)
    # thousands of generated cases, each compared with ssh-keygen's answer
    assert CASES["compared"] >= 3000, CASES
    assert CASES["asked"] >= 1000, CASES  # and over a thousand distinct questions to ssh-keygen


@pytest.mark.parametrize(
    ("name", "patterns", "decision"),
    [
        ("release@example.com", "*@example.com,!release@example.com", -1),
        ("dev@example.com", "*@example.com,!release@example.com", 1),
        ("Dev@example.com", "dev@example.com", 0),  # case counts, as in OpenSSH
        ("ab", "a?", 1),
        ("a", "a?", 0),
        ("", "a,", 0),  # a trailing comma adds no empty pattern
        ("", "a,,b", 1),  # an empty pattern between commas matches the empty name
        ("x", "!y", 0),  # negation alone accepts nobody
    ],
)
def test_pattern_lists_as_openssh_reads_them(name: str, patterns: str, decision: int) -> None:
    assert match_pattern_list(name, patterns) == decision
