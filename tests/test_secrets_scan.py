"""The scan engine finds exactly what ``detect-secrets scan`` finds, faster and cached."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from pytest_promote._util.workers import share_out
from pytest_promote.gates.secrets.scan import PIECE_BYTES, ScanError, ScanReport, _collect, plan_pieces, scan
from tests import secrets_corpus

DETECT_SECRETS = str(Path(sys.executable).with_name("detect-secrets"))
Row = tuple[str, int, str, str]


class DictStore:
    """Stands in for ``config.cache`` (a JSON-able key/value store)."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    def get(self, key: str, default: Any) -> Any:
        return json.loads(json.dumps(self.data[key])) if key in self.data else default

    def set(self, key: str, value: Any) -> None:
        self.data[key] = json.loads(json.dumps(value))


def plain_scan(
    root: Path, files: list[str], *args: str, env: dict[str, str] | None = None
) -> set[Row]:
    """What ``detect-secrets scan ARGS FILES`` reports, run in ``root`` (with ``env``)."""
    done = subprocess.run(
        [DETECT_SECRETS, "scan", *args, *files], cwd=root, capture_output=True, text=True,
        check=True, env=env,
    )
    if "--baseline" in args:  # the scan writes its results into the baseline
        data = json.loads((root / args[args.index("--baseline") + 1]).read_text())
    else:
        data = json.loads(done.stdout)
    return {
        (path, e["line_number"], e["type"], e["hashed_secret"])
        for path, entries in data["results"].items()
        for e in entries
    }


def rows(report: ScanReport, decoded: bool = False) -> set[Row]:
    """The findings; those of files detect-secrets skips as not UTF-8 (which the scan
    reads in their own encoding) only if ``decoded``."""
    skipped = {f.path for f in report.files if f.status == "decoded"}
    return {(h.path, h.line, h.type, h.hashed_secret) for h in report.hits
            if decoded or h.path not in skipped}


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Path, list[str]]:
    return tmp_path, secrets_corpus.write(tmp_path)


def test_same_findings_as_detect_secrets_scan(corpus: tuple[Path, list[str]]) -> None:
    root, files = corpus
    expected = plain_scan(root, files)
    report = scan(root, files, baseline=None, workers=2)
    assert rows(report) == expected
    # The corpus makes every default plugin report (the public-IP one is always
    # dropped by the "no letters" filter), and the filters drop every line of
    # filtered.py, which would otherwise be keyword findings.
    types = {row[2] for row in expected}
    assert len(types) == 26
    assert not [row for row in expected if row[0] == "app/filtered.py"]
    status = {f.path: f.status for f in report.files}
    assert (status["data/latin1.txt"], status["data/blob.dat"]) == ("decoded", "not-text")
    # Where the scan goes further: detect-secrets skips the Latin-1 file; its
    # findings are detect-secrets' own on the same text in UTF-8.
    copy = root / "utf8" / "data" / "latin1.txt"
    copy.parent.mkdir(parents=True)
    copy.write_text((root / "data" / "latin1.txt").read_bytes().decode("latin-1"), encoding="utf-8")
    again = {("data/latin1.txt", *row[1:]) for row in plain_scan(root, ["utf8/data/latin1.txt"])}
    assert again and rows(report, decoded=True) - rows(report) == again
    assert status["static/logo.png"] == status["package-lock.json"] == "excluded"
    assert status["api/swagger.yaml"] == "excluded"


def test_same_findings_with_a_baselines_own_settings(corpus: tuple[Path, list[str]]) -> None:
    root, files = corpus
    made = subprocess.run(
        [DETECT_SECRETS, "scan", "--exclude-lines", "hunter2", "--base64-limit", "3.5",
         "--disable-plugin", "HexHighEntropyString", *files],
        cwd=root, capture_output=True, text=True, check=True,
    )
    (root / ".secrets.baseline").write_text(made.stdout)
    report = scan(root, [*files, ".secrets.baseline"], baseline=".secrets.baseline", workers=2)
    expected = plain_scan(root, [*files, ".secrets.baseline"], "--baseline", ".secrets.baseline")
    assert rows(report) == expected
    assert not [row for row in expected if row[2] == "Hex High Entropy String"]
    assert {f.path: f.status for f in report.files}[".secrets.baseline"] == "excluded"


def test_finds_files_wherever_pytest_runs(
    corpus: tuple[Path, list[str]], tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root, _ = corpus
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    monkeypatch.chdir(elsewhere)
    # The trap: plain detect-secrets, handed absolute paths outside its working
    # directory, silently scans nothing.
    trap = plain_scan(elsewhere, [str(root / "app/tokens.py")])
    assert trap == set()
    report = scan(root, ["app/tokens.py"], baseline=None)
    assert len(report.hits) > 20


def test_a_file_that_cannot_be_read_is_an_error(corpus: tuple[Path, list[str]]) -> None:
    root, files = corpus
    with pytest.raises(ScanError, match=r"missing\.py: handed over but cannot be read"):
        scan(root, [*files, "missing.py"], baseline=None)


def test_a_baseline_detect_secrets_rejects_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    (tmp_path / ".secrets.baseline").write_text('{"results": {}}')
    with pytest.raises(ScanError, match=r"detect-secrets rejected \.secrets\.baseline"):
        scan(tmp_path, ["a.py"], baseline=".secrets.baseline")
    (tmp_path / ".secrets.baseline").write_text("{not json")
    with pytest.raises(ScanError, match="not valid JSON"):
        scan(tmp_path, ["a.py"], baseline=".secrets.baseline")


def test_warm_runs_reuse_unchanged_files_without_reading_them(
    corpus: tuple[Path, list[str]],
) -> None:
    root, files = corpus
    old = 1_600_000_000_000_000_000  # files written long ago are trusted on their stat
    for path in files:
        os.utime(root / path, ns=(old, old))
    store = DictStore()
    cold = scan(root, files, baseline=None, store=store, reuse=True)
    assert (cold.scanned, cold.reused) == (len(files), 0)
    (root / "app/tokens.py").chmod(0)  # unreadable: a warm run must not open it
    try:
        warm = scan(root, files, baseline=None, store=store, reuse=True)
    finally:
        (root / "app/tokens.py").chmod(0o644)
    assert (warm.scanned, warm.reused, warm.workers) == (0, len(files), 0)
    assert rows(warm) == rows(cold)
    os.utime(root / "app/settings.py")  # touched: same content, re-hashed, reused
    with (root / "svc/main.go").open("a") as f:
        f.write('var password = "addedLater123"\n')
    after = scan(root, files, baseline=None, store=store, reuse=True)
    assert (after.scanned, after.reused) == (1, len(files) - 1)
    assert rows(after) == plain_scan(root, files)


def test_no_reuse_when_not_allowed_or_settings_change(corpus: tuple[Path, list[str]]) -> None:
    root, files = corpus
    store = DictStore()
    scan(root, files, baseline=None, store=store, reuse=True)
    assert scan(root, files, baseline=None, store=store, reuse=False).reused == 0
    made = subprocess.run([DETECT_SECRETS, "scan", *files], cwd=root, capture_output=True,
                          text=True, check=True)
    (root / ".secrets.baseline").write_text(made.stdout)
    assert scan(root, files, baseline=".secrets.baseline", store=store, reuse=True).reused == 0


def test_a_just_written_file_is_rehashed_even_with_the_same_stat(tmp_path: Path) -> None:
    target = tmp_path / "a.py"
    target.write_text('password = "firstValue1"\n')
    stat = target.stat()
    store = DictStore()
    first = scan(tmp_path, ["a.py"], baseline=None, store=store, reuse=True)
    target.write_text('password = "otherValue2"\n')  # same size
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = scan(tmp_path, ["a.py"], baseline=None, store=store, reuse=True)
    assert second.scanned == 1
    assert rows(first) != rows(second)


def test_secret_values_are_never_kept(corpus: tuple[Path, list[str]]) -> None:
    root, files = corpus
    store = DictStore()
    report = scan(root, files, baseline=None, store=store)
    kept = json.dumps(store.data) + repr(report)
    for value in ("hunter2hunter2x", "AKIAIOSFODNN7EXAMPLE", secrets_corpus.B64, "gOlAnGsEcReT123"):
        assert value not in kept


def test_share_out_balances_by_size_and_keeps_every_file_once() -> None:
    sizes = {"huge": 1000, **{f"f{i}": 10 for i in range(60)}, "mid": 400}
    shares = share_out(sizes, 2)
    assert sorted(p for share in shares for p in share) == sorted(sizes)
    assert shares[0][0] == "huge"
    loads = [sum(sizes[p] for p in share) for share in shares]
    assert abs(loads[0] - loads[1]) <= 0.1 * sum(loads)
    assert share_out({"a": 1}, 2) == [["a"]]


HEX_A = "8f3a9c1be07d4b265a1fc3e9d08b7a64"
HEX_B = "0d9e8c7b6a5f4e3d2c1b0a9f8e7d6c5b"


def wide_rows(count: int, planted: dict[int, str]) -> list[str]:
    """Wide table rows (long space runs, a ``:``), with ``planted`` lines by 0-based index."""
    rows = [f"| ``opt_{i}``{' ' * 90}| Default: ``{i}``{' ' * 120}| the {i}th setting{' ' * 80}|"
            for i in range(count)]
    for index, line in planted.items():
        rows[index] = line
    return [f"{row:<400}\n" for row in rows]


def test_files_scanned_in_pieces_give_detect_secrets_findings(tmp_path: Path) -> None:
    from pytest_promote.gates.secrets.worker import piece_bounds

    lines, pieces = 300, 4  # every wide file below is cut into this many pieces
    cuts = [piece_bounds(lines, i, pieces)[0] for i in range(1, pieces)]
    # Secrets on both sides of every cut, in the middle, a repeat of one in a later
    # piece (reported once, at its first line), and an allowlist pragma whose
    # secret is the first line of the next piece (the pragma is only context).
    table = {cut + d: f'password = "tablePw{cut}x{d}"' for cut in cuts for d in (-1, 0)}
    table |= {160: 'api_key = "AKIAIOSFODNN7EXAMPLE"', 290: 'api_key = "AKIAIOSFODNN7EXAMPLE"'}
    table |= {cuts[1] - 1: "# pragma: allowlist nextline secret", cuts[1]: 'password = "hidden1Pw9"'}
    # Seen only through transformers: unquoted values of a key = value file (the
    # eager INI pass, only when the raw lines find nothing) and of YAML.
    plain_kv = {i: f"setting_{i} = plain value {i}" for i in range(lines)}
    plain_kv |= {cuts[0]: f"checksum = {HEX_A}", cuts[0] - 1: f"other_sum = {HEX_B}"}
    mixed = dict(plain_kv) | {cuts[2]: 'password = "rawLineFinding7"'}  # raw pass wins
    yaml_rows = {i: f"key_{i}: some plain value number {i}" for i in range(lines)}
    yaml_rows |= {cuts[1]: f"digest: {HEX_A}", 10: f"other: {HEX_B}"}
    files = {
        "docs/table.rst": "".join(wide_rows(lines, table)),
        "conf/settings.txt": "".join(f"{v:<400}\n" for v in plain_kv.values()),
        "conf/mixed.txt": "".join(f"{v:<400}\n" for v in mixed.values()),
        "conf/values.yaml": "".join(f"{v:<400}\n" for v in yaml_rows.values()),
        "small.py": 'token = "smallFileTok3n"\n',
    }
    for path, body in files.items():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text(body)
    sizes = {path: len(body) for path, body in files.items()}
    split = plan_pieces(sizes, 2, 1)
    assert {path: split[path] for path in files} == {**dict.fromkeys(files, pieces), "small.py": 1}
    expected = plain_scan(tmp_path, list(files))
    report = scan(tmp_path, list(files), baseline=None, workers=2, piece_bytes=1)
    assert report.workers == 2
    assert rows(report) == expected
    found = {(row[0], row[1]) for row in expected}
    assert {("docs/table.rst", cut + d + 1) for cut in (cuts[0], cuts[2]) for d in (-1, 0)} <= found
    assert ("docs/table.rst", cuts[1] + 1) not in found  # allowlisted from the piece before
    assert ("docs/table.rst", 291) not in found and ("docs/table.rst", 161) in found
    assert ("conf/settings.txt", cuts[0] + 1) in found  # only through the eager INI pass
    assert [row for row in expected if row[0] == "conf/mixed.txt"] == [
        ("conf/mixed.txt", cuts[2] + 1, "Secret Keyword", row[3]) for row in expected
        if row[0] == "conf/mixed.txt"]
    assert ("conf/values.yaml", cuts[1] + 1) in found


def test_only_large_files_are_cut_and_only_with_two_workers() -> None:
    sizes = {"table.rst": 8_000_000, "big.py": 300_000, **{f"m{i}.py": 5_000 for i in range(600)}}
    plan = plan_pieces(sizes, 2, PIECE_BYTES)
    assert plan["table.rst"] == 8_000_000 // 706_250 + 1  # an eighth of a worker's share
    assert {n for path, n in plan.items() if path != "table.rst"} == {1}
    assert set(plan_pieces(sizes, 1, PIECE_BYTES).values()) == {1}
    assert plan_pieces({"a": 10**9}, 2, 1)["a"] == 16  # eight a worker at most


@pytest.mark.parametrize(
    ("printed", "wrong"),
    [
        ('{"files": {}}', "files is an object, not an array"),
        ('{"files": [{"path": "a.py", "status": "scanned"}]}', "files[0] has no 'reason'"),
    ],
)
def test_worker_output_of_the_wrong_shape_is_an_error(printed: str, wrong: str) -> None:
    with pytest.raises(ScanError) as caught:
        _collect(0, printed, "", [("a.py", 0, 1)])
    assert f"unexpected shape: {wrong}; it began: {printed}" in str(caught.value)


def test_a_scan_past_its_timeout_fails(tmp_path: Path) -> None:
    files = [f"f{n}.py" for n in range(40)]
    for name in files:
        (tmp_path / name).write_text("value = 1\n" * 200)
    with pytest.raises(ScanError, match=r"did not finish within the timeout \(40 files\)"):
        scan(tmp_path, files, baseline=None, verify=False, workers=1, timeout=0.05)


def test_a_cancelled_scan_fails(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("x = 1\n")
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ScanError, match="the secrets scan was cancelled"):
        scan(tmp_path, ["a.py"], baseline=None, verify=False, cancel=cancel)


def test_a_worker_per_core_and_per_share_of_bytes_when_not_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Left to choose (``workers = 0``), the scan starts one worker for a small project,
    where a second would only pay detect-secrets' start again, and one per core once
    there is a worker's share of bytes for each; the findings are the same either way."""
    from pytest_promote.gates.secrets import scan as engine

    monkeypatch.setattr(engine, "cores", lambda: 3)
    small = {"a.py": 'token = "smallFileTok3n"\n', "b.py": "x = 1\n"}
    for path, body in small.items():
        (tmp_path / path).write_text(body)
    report = scan(tmp_path, list(small), baseline=None, verify=False)
    assert report.workers == 1
    assert rows(report) == plain_scan(tmp_path, list(small))
    line = "value = compute(first_argument, second_argument)  # an ordinary line of code\n"
    large = {f"m{i}.py": line * (engine.WORKER_BYTES // len(line) + 1) for i in range(2)}
    for path, body in large.items():
        (tmp_path / path).write_text(body)
    files = [*small, *large]
    report = scan(tmp_path, files, baseline=None, verify=False)
    assert report.workers == 3  # a little over two shares: three, as many as the cores
    assert rows(report) == plain_scan(tmp_path, files)
    assert scan(tmp_path, files, baseline=None, verify=False, workers=1).workers == 1  # told: as told
