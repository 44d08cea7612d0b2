"""bench/tune_ranking.py ranks the dev benchmark as the product does: its pool holds the stored
issues whole (bodies included) and its in-sample lists are the engine's own."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from matcher.engine import MatchEngine
from matcher.models import Profile
from matcher.snapshot import read_snapshot
from matcher.store import Database
from tests.fakes.github_server import SHARED

ROOT = Path(__file__).resolve().parents[2]
DATA = SHARED / "bench" / "dev"

pytestmark = pytest.mark.skipif(not DATA.is_dir(), reason="../shared/bench/dev is absent")


@pytest.fixture(scope="module")
def tune():
    """bench/tune_ranking.py as a module (bench/ is scripts, not a package)."""
    path = ROOT / "bench" / "tune_ranking.py"
    spec = importlib.util.spec_from_file_location("tune_ranking", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while defined
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("tune")


@pytest.fixture(scope="module")
def bench(tune, cache):
    return tune.Bench(DATA, cache)


def test_the_benchs_pool_holds_every_issue_with_its_body(bench):
    written = {issue.url: issue for issue in read_snapshot(DATA / "issues.jsonl").issues}
    assert sorted(i.url for i in bench.issues) == sorted(written)
    assert all(issue.body == written[issue.url].body for issue in bench.issues)


def test_the_benchs_in_sample_lists_are_the_engines(tune, bench, cache):
    config = tune.Config(bench.settings.ranking, dict(tune.SIGNAL_KEYS))
    everything = tuple(range(len(bench.issues)))
    db = Database(f"sqlite:///{cache / 'bench.sqlite'}")  # the bench's store: embedded already
    profiles = [
        Profile(id=p["id"], skills=p["skills"], niche=p.get("niche", ""))
        for p in json.loads((DATA / "personas.json").read_text())
    ]
    engine = MatchEngine(db, bench.settings)
    lists = engine.match_many(profiles, top_k=10, now=bench.now)
    for persona, profile in enumerate(profiles):
        ranked = bench.ranked(config, everything, persona)[:10]
        assert [bench.urls[k] for k in ranked] == [m.issue.url for m in lists[profile.id]]
