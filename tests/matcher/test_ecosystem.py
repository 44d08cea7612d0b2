"""The ecosystem catalogue: its build script, the shipped file, and niches by repository."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from matcher.catalog import Catalog, Labels, RepoEntry, load_catalog, load_ecosystem
from matcher.errors import ConfigError
from matcher.niches import NICHE_NAMES
from matcher.settings import CONFIG_DIR

ROOT = Path(__file__).resolve().parents[2]

BEST_OF = """
projects:
  - name: Albumentations
    github_id: albumentations-team/albumentations
    pypi_id: albumentations
    category: image
    labels: ["pytorch"]
  - name: Faiss
    github_id: facebookresearch/faiss
    category: nn-search
  - name: Not on GitHub
    category: nlp
  - name: Unknown category
    github_id: someone/thing
    category: no-such-category
"""

AWESOME = """
## Quick links to sections on this page
* [Ignored](https://github.com/ignored/link) - before any known section.
## Industry Strength Information Retrieval
* [FAISS](https://github.com/FacebookResearch/faiss) ![](badge) - similarity search.
* [Qdrant](https://github.com/qdrant/qdrant) ![](badge) - a vector search engine.
## Not a known section
* [Other](https://github.com/other/repo) - not catalogued.
"""


def _build_script():
    spec = importlib.util.spec_from_file_location("build", ROOT / "scripts" / "build_ecosystem.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_merges_both_lists_by_repository(tmp_path):
    build = _build_script()
    (tmp_path / "best.yaml").write_text(BEST_OF)
    (tmp_path / "awesome.md").write_text(AWESOME)
    out = tmp_path / "ecosystem.yaml"
    args = ["--best-of", str(tmp_path / "best.yaml"), "--awesome", str(tmp_path / "awesome.md")]
    assert build.main([*args, "-o", str(out)]) == 0

    ecosystem = load_ecosystem(out)
    assert ecosystem == {
        "albumentations-team/albumentations": ("vision",),
        # in both lists, spelled two ways: one entry, the niches of both
        "facebookresearch/faiss": ("retrieval", "llm-apps"),
        "qdrant/qdrant": ("retrieval", "llm-apps"),
    }
    text = out.read_text()
    assert "CC BY-SA 4.0" in text and "(MIT)" in text and "3 repositories" in text
    assert "packages: [albumentations]" in text and "frameworks: [pytorch]" in text


def test_build_reports_an_unreadable_source_in_one_line(tmp_path, capsys):
    build = _build_script()
    code = build.main(["--best-of", str(tmp_path / "missing.yaml"), "-o", str(tmp_path / "o")])
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot read a source list") and "\n" not in err


def test_shipped_catalogue_is_large_and_uses_known_niches():
    ecosystem = load_ecosystem(CONFIG_DIR / "ecosystem.yaml")
    assert len(ecosystem) >= 1000
    assert {n for niches in ecosystem.values() for n in niches} <= set(NICHE_NAMES)
    assert all(niches for niches in ecosystem.values())


def test_curated_niches_win_and_lookups_ignore_case():
    catalog = Catalog(
        Labels(strengths={}, hard=frozenset()),
        (RepoEntry("acme/vision", ("vision",)), RepoEntry("acme/bare")),
        {"acme/vision": ("nlp",), "acme/bare": ("audio",), "other/lib": ("rl",)},
    )
    assert catalog.niches_of("ACME/Vision") == ("vision",)
    assert catalog.niches_of("acme/bare") == ("audio",)  # curated without niches: the ecosystem's
    assert catalog.niches_of("Other/Lib") == ("rl",)
    assert catalog.niches_of("nobody/knows") == ()


def test_shipped_catalog_knows_libraries_beyond_the_sync_list():
    catalog = load_catalog()
    synced = {r.repo.lower() for r in catalog.repos}
    beyond = [repo for repo in catalog.ecosystem if repo not in synced]
    assert len(beyond) >= 1000
    assert catalog.niches_of(beyond[0])


@pytest.mark.parametrize(
    "text",
    ["repos: 3\n", "repos:\n  - {repo: no-slash, niches: [nlp]}\n", "repos:\n  - {repo: a/b}\n"],
)
def test_malformed_ecosystem_file_is_one_line(tmp_path, text):
    path = tmp_path / "ecosystem.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_ecosystem(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_missing_ecosystem_file_is_empty(tmp_path):
    assert load_ecosystem(tmp_path / "absent.yaml") == {}
