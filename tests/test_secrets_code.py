"""The secrets scan with the code that is really in effect: detect-secrets' optional
filters switched on by an importable package, an edited (editable or copied)
detect-secrets, originals that differ from the ones the linear twins were proven
on. Each run is compared with ``detect-secrets scan`` in the same environment."""

from __future__ import annotations

import os
import shutil
import textwrap
from pathlib import Path

import detect_secrets
import pytest
from test_secrets_scan import DictStore, plain_scan, rows

from pytest_promote.gates.secrets.scan import scan

SOURCE = '''\
password = "hunter2hunter2xyz"
aws_key = "AKIAIOSFODNN7EXAMPLE"
api_token = "3f8a9c2e7b1d4f6a8c0e2b4d6f8a0c2e"
'''

# A stand-in for gibberish-detector (which detect-secrets uses when it imports): its
# detector calls every string a word, so the filter drops every secret that is not hex.
FAKE_GIBBERISH = {
    "__init__.py": "",
    "exceptions.py": "class ParsingError(Exception):\n    pass\n",
    "serializer.py": "def deserialize(text):\n    return {'charset': 'ab', 'data': {'a': 1}}\n",
    "model.py": """\
        class Model:
            def __init__(self, charset=''):
                self.charset, self.data = charset, {}

            def update(self, other):
                self.charset, self.data = other['charset'], other['data']
        """,
    "detector.py": """\
        class Detector:
            def __init__(self, model, threshold):
                pass

            def is_gibberish(self, text):
                return False
        """,
}


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, list[str]]:
    root = tmp_path / "project"
    root.mkdir()
    (root / "settings.py").write_text(SOURCE)
    return root, ["settings.py"]


def with_path(folder: Path) -> dict[str, str]:
    """This environment with ``folder`` first on ``PYTHONPATH``."""
    return dict(os.environ, PYTHONPATH=str(folder))


def test_an_optional_filter_package_made_importable_invalidates_the_cache(
    project: tuple[Path, list[str]], tmp_path: Path
) -> None:
    root, files = project
    site = tmp_path / "site" / "gibberish_detector"
    site.mkdir(parents=True)
    for name, text in FAKE_GIBBERISH.items():
        (site / name).write_text(textwrap.dedent(text))
    plain, gibberish = dict(os.environ), with_path(site.parent)
    store = DictStore()
    without = scan(root, files, baseline=None, store=store, reuse=True, env=plain)
    assert rows(without) == plain_scan(root, files, env=plain)
    assert len(rows(without)) >= 3
    # Installed: detect-secrets' gibberish filter is on; the warm run is a fresh scan.
    warm = scan(root, files, baseline=None, store=store, reuse=True, env=gibberish)
    assert (warm.scanned, warm.reused) == (1, 0)
    assert rows(warm) == plain_scan(root, files, env=gibberish)
    assert 1 <= len(rows(warm)) < len(rows(without))
    # Removed again: the filter is off, and the scan says so.
    back = scan(root, files, baseline=None, store=store, reuse=True, env=plain)
    assert (back.scanned, rows(back)) == (1, rows(without))


def copy_detect_secrets(where: Path) -> Path:
    """A copy of the installed detect-secrets in ``where`` (put first on PYTHONPATH, it
    is what runs: as an editable install would be)."""
    package = where / "detect_secrets"
    shutil.copytree(
        Path(detect_secrets.__file__).parent, package,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return package


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_twins_stand_in_only_for_the_originals_they_were_proven_on(
    project: tuple[Path, list[str]], tmp_path: Path
) -> None:
    root, files = project
    package = copy_detect_secrets(tmp_path / "site")
    env = with_path(package.parent)
    store = DictStore()
    twins = scan(root, files, baseline=None, store=store, reuse=True, env=env)
    assert twins.originals == ()
    assert rows(twins) == plain_scan(root, files, env=env)
    # The same behaviour, other code: an edit the twins' proofs do not cover.
    edit(package / "filters" / "heuristic.py", "    if len(line) > 1000:",
         "    # edited\n    if len(line) > 1000:")
    edit(package / "plugins" / "ibm_cloud_iam.py", "key|pwd|password|pass|", "key|pwd|pass|password|")
    edited = scan(root, files, baseline=None, store=store, reuse=True, env=env)
    assert edited.scanned == 1  # the code changed: nothing is reused
    assert edited.originals == (
        "IbmCloudIamDetector", "detect_secrets.filters.heuristic.is_indirect_reference",
    )
    assert rows(edited) == rows(twins) == plain_scan(root, files, env=env)
    warm = scan(root, files, baseline=None, store=store, reuse=True, env=env)
    assert (warm.scanned, warm.originals) == (0, edited.originals)
    # An edit that changes what a plugin finds: the warm run finds what a fresh one does.
    edit(package / "plugins" / "keyword.py", "'password',", "'passwordx',")
    changed = scan(root, files, baseline=None, store=store, reuse=True, env=env)
    assert rows(changed) == plain_scan(root, files, env=env) != rows(twins)


def test_the_gate_says_when_an_original_runs(
    pytester: pytest.Pytester, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    package = copy_detect_secrets(tmp_path / "site")
    edit(package / "filters" / "heuristic.py", "    if len(line) > 1000:",
         "    # edited\n    if len(line) > 1000:")
    monkeypatch.setenv("PYTHONPATH", str(package.parent))
    pytester.makepyprojecttoml(
        '[tool.promote]\nstages = ["dev"]\nenforce_path = false\n'
        '[tool.promote.gates]\nsecrets = { verify = false }\n'
        '[tool.promote.stage.dev]\nrequired = ["secrets"]\n'
    )
    (pytester.path / "settings.py").write_text(SOURCE)
    result = pytester.runpytest_subprocess("--promote-to=dev", "-p", "no:cacheprovider")
    result.stdout.fnmatch_lines([
        "*potential secrets and no baseline (0 allowed for dev); * files; detect-secrets' own "
        "is_indirect_reference ran, not the linear twin: the installed original is not the one "
        "the twin was proven equal to*",
        "settings.py:1: Secret Keyword potential secret: password = \"[[]REDACTED]\"",
    ])
