"""Honest warnings about activity (issue 13): an issue nobody touched for long, or whose last
comments wait for a maintainer, says so and sinks, in both ranking paths; unknown is neutral."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from matcher.catalog import load_catalog
from matcher.engine import MatchEngine
from matcher.models import Profile
from matcher.ranking import reasons_for
from matcher.settings import RankingSettings
from matcher.signals import (
    days_idle,
    days_unanswered,
    neglect,
    stale_label_reason,
    stale_reason,
    unanswered_reason,
)
from matcher.snapshot import read_snapshot
from matcher.store.issues import upsert_issues
from tests.conftest import NOW, make_issue
from tests.fakes.embedder import HashingEmbedder
from tests.matcher.test_index import in_a_batch, urls

DAY = timedelta(days=1)
LEARNER = Profile(id="nlp", skills="PyTorch, tokenizers", niche="NLP")
TITLE, BODY = "Tokenizer drops the last token", "The PyTorch tokenizer drops a token at the end."


def twin(number: int, **extra):
    """Issues with the same text, repository and labels: only what `extra` says differs."""
    return make_issue(number, TITLE, BODY, **extra)


# --- the signal functions ---------------------------------------------------------------------


def test_idle_days_come_from_updated_at_only_never_from_created_at():
    known = twin(1, updated_at=NOW - 400 * DAY, created_at=NOW - 900 * DAY)
    assert days_idle(known, NOW) == pytest.approx(400)
    opened_only = twin(2, updated_at=None, created_at=NOW - 900 * DAY)
    assert days_idle(opened_only, NOW) is None


def test_unanswered_days_only_while_comments_wait():
    waiting = twin(1, unanswered_comments=2, unanswered_since=NOW - 45 * DAY)
    assert days_unanswered(waiting, NOW) == pytest.approx(45)
    assert days_unanswered(replace(waiting, unanswered_comments=0), NOW) is None
    assert days_unanswered(twin(2), NOW) is None


def test_neglect_is_zero_before_due_half_when_due_one_at_twice_and_neutral_when_unknown():
    idle = np.array([np.nan, 0.0, 364.0, 365.0, 547.5, 730.0, 5000.0, np.nan])
    waiting = np.array([np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, np.nan, 30.0])
    got = neglect(idle, waiting, stale_after_days=365, unanswered_after_days=30)
    assert got.tolist() == [0.0, 0.0, 0.0, 0.5, 0.75, 1.0, 1.0, 0.5]


def test_neglect_takes_the_larger_of_the_two():
    got = neglect(np.array([400.0]), np.array([60.0]), 365, 30)
    assert got.tolist() == [1.0]


def test_a_stale_label_counts_in_full_whatever_the_dates_say():
    # a stale bot's ping is what keeps updatedAt fresh on such an issue
    got = neglect(np.array([3.0, 3.0]), np.array([np.nan, np.nan]), 365, 30, np.array([1, 0]))
    assert got.tolist() == [1.0, 0.0]


def test_stale_labels_come_from_the_catalogue_in_any_spelling():
    labels = load_catalog().labels
    assert labels.stale_label(("good first issue", "Lifecycle/Rotten")) == "Lifecycle/Rotten"
    assert labels.stale_label(("good first issue", "stalemate")) is None
    marked = twin(1, labels=("good first issue", "Stale"))
    assert stale_label_reason(marked, labels) == "labelled 'Stale': the project marked it inactive"
    assert stale_label_reason(twin(2, labels=("good first issue",)), labels) is None


def test_stale_reason_says_how_long_in_months_or_years():
    assert stale_reason(twin(1, updated_at=NOW - 430 * DAY), NOW, 365) == (
        "no activity for 14 months: it may be abandoned"
    )
    assert stale_reason(twin(1, updated_at=NOW - 1000 * DAY), NOW, 365) == (
        "no activity for 2 years: it may be abandoned"
    )
    assert stale_reason(twin(1, updated_at=NOW - 364 * DAY), NOW, 365) is None
    assert stale_reason(twin(1, updated_at=None, created_at=NOW - 2000 * DAY), NOW, 365) is None


def test_unanswered_reason_counts_the_comments_and_the_wait():
    two = twin(1, unanswered_comments=2, unanswered_since=NOW - 95 * DAY)
    assert unanswered_reason(two, NOW, 30) == (
        "2 comments waiting for a maintainer's answer for 3 months"
    )
    one = twin(1, unanswered_comments=1, unanswered_since=NOW - 40 * DAY)
    assert (
        unanswered_reason(one, NOW, 30) == "1 comment waiting for a maintainer's answer for 40 days"
    )
    assert unanswered_reason(replace(one, unanswered_since=NOW - 10 * DAY), NOW, 30) is None


def test_reasons_put_the_warning_first_and_do_not_repeat_the_age():
    labels = load_catalog().labels
    last = NOW - 800 * DAY  # a question nobody answered, and nothing since
    stale = twin(1, updated_at=last, unanswered_comments=1, unanswered_since=last)
    reasons = reasons_for(stale, ["tokenizer"], 0.5, 0.0, labels, NOW)
    assert reasons[:2] == [
        "no activity for 2 years: it may be abandoned",
        "1 comment waiting for a maintainer's answer for 2 years",
    ]
    assert not any(r.startswith("updated") for r in reasons)
    fresh = reasons_for(twin(2, updated_at=NOW - 3 * DAY), ["tokenizer"], 0.5, 0.0, labels, NOW)
    assert fresh[-1] == "updated 3 days ago" and not any("abandoned" in r for r in fresh)
    stricter = RankingSettings(stale_after_days=2)
    said = reasons_for(
        twin(2, updated_at=NOW - 3 * DAY), [], 0.5, 0.0, labels, NOW, settings=stricter
    )
    assert said[0] == "no activity for 3 days: it may be abandoned"


def test_an_issue_known_only_by_its_opening_says_when_it_was_opened_and_no_warning():
    labels = load_catalog().labels
    old = twin(1, updated_at=None, created_at=NOW - 800 * DAY)
    reasons = reasons_for(old, [], 0.5, 0.0, labels, NOW)
    assert reasons[-1] == "opened 2 years ago"
    assert not any("abandoned" in r or "waiting" in r for r in reasons)


# --- both ranking paths -----------------------------------------------------------------------


@pytest.fixture
def engine(db, settings):
    return MatchEngine(db, settings, embedder=HashingEmbedder())


def both_paths(engine, profile=LEARNER, top_k=10):
    return {
        "index": engine.match(profile, now=NOW, top_k=top_k),
        "batch": in_a_batch(engine, profile, now=NOW, top_k=top_k),
    }


def test_a_stale_issue_sinks_below_an_equal_one_whose_activity_is_unknown(engine):
    # the same freshness (updated_at, else created_at): only the known idleness differs
    stale = twin(1, updated_at=NOW - 500 * DAY, created_at=NOW - 600 * DAY)
    unknown = twin(2, updated_at=None, created_at=NOW - 500 * DAY)
    upsert_issues(engine.db, [stale, unknown])
    weight = engine.settings.ranking.neglect
    for path, matches in both_paths(engine).items():
        assert urls(matches) == [unknown.url, stale.url], path  # URL order alone would say 1, 2
        low, high = matches[1], matches[0]
        assert low.components["neglect"] == pytest.approx(0.5 + 0.5 * 135 / 365, abs=1e-3)
        assert high.components["neglect"] == 0.0
        # components are rounded to 4 places
        assert high.score - low.score == pytest.approx(weight * (0.5 + 0.5 * 135 / 365))
        assert low.reasons[0] == "no activity for 16 months: it may be abandoned"
    assert [m.score for m in both_paths(engine)["index"]] == pytest.approx(
        [m.score for m in both_paths(engine)["batch"]], abs=1e-6
    )


def test_a_stale_labelled_issue_sinks_below_its_twin_and_says_why(engine):
    marked = twin(1, labels=("good first issue", "stale"), updated_at=NOW - 2 * DAY)
    plain = twin(2, labels=("good first issue",), updated_at=NOW - 2 * DAY)
    upsert_issues(engine.db, [marked, plain])
    for path, matches in both_paths(engine).items():
        assert urls(matches) == [plain.url, marked.url], path
        assert matches[1].components["neglect"] == 1.0
        assert matches[1].reasons[0] == "labelled 'stale': the project marked it inactive"
        assert matches[0].components["neglect"] == 0.0


def test_unanswered_comments_sink_an_issue_below_its_equal_twin(engine):
    waiting = twin(
        1, updated_at=NOW - 5 * DAY, unanswered_comments=2, unanswered_since=NOW - 90 * DAY
    )
    answered = twin(2, updated_at=NOW - 5 * DAY)
    recent = twin(
        3, updated_at=NOW - 5 * DAY, unanswered_comments=1, unanswered_since=NOW - 5 * DAY
    )
    upsert_issues(engine.db, [waiting, answered, recent])
    for path, matches in both_paths(engine).items():
        assert urls(matches)[-1] == waiting.url, path
        last = matches[-1]
        assert last.components["neglect"] == 1.0
        assert last.reasons[0] == "2 comments waiting for a maintainer's answer for 2 months"
        # a comment posted five days ago has not waited long: no warning, no penalty
        assert not any("waiting" in r for m in matches[:-1] for r in m.reasons)


def test_a_stale_issue_sinks_below_a_fresh_one_by_more_than_freshness(engine):
    stale = twin(1, updated_at=NOW - 800 * DAY)
    fresh = twin(2, updated_at=NOW - 1 * DAY)
    upsert_issues(engine.db, [stale, fresh])
    ranking = engine.settings.ranking
    for matches in both_paths(engine).values():
        assert urls(matches) == [fresh.url, stale.url]
        gap = matches[0].score - matches[1].score
        freshness_gap = ranking.freshness * (
            matches[0].components["fresh"] - matches[1].components["fresh"]
        )
        assert gap == pytest.approx(freshness_gap + ranking.neglect * 1.0, abs=1e-4)


def test_the_weight_turns_it_off(db, settings):
    settings = settings.model_copy(
        update={"ranking": settings.ranking.model_copy(update={"neglect": 0.0})}
    )
    engine = MatchEngine(db, settings, embedder=HashingEmbedder())
    stale = twin(1, updated_at=NOW - 500 * DAY, created_at=NOW - 600 * DAY)
    unknown = twin(2, updated_at=None, created_at=NOW - 500 * DAY)
    upsert_issues(db, [stale, unknown])
    for matches in both_paths(engine).values():
        assert urls(matches) == [stale.url, unknown.url]  # equal scores: URL order
        assert matches[0].score == matches[1].score
        assert matches[0].reasons[0].startswith("no activity")  # still said: it is a fact


def test_a_snapshot_with_only_created_at_is_neutral(engine, tmp_path):
    """The benchmark's snapshots give created_at alone: its grades judge fit, not age."""
    path = tmp_path / "old.jsonl"
    path.write_text(
        '{"url": "https://github.com/acme/lib/issues/1", "repo": "acme/lib", "number": 1,'
        f' "title": "{TITLE}", "body": "{BODY}", "labels": [], "created_at": "2019-02-12"}}\n',
        encoding="utf-8",
    )
    (issue,) = read_snapshot(path).issues
    assert issue.updated_at is None
    upsert_issues(engine.db, [issue])
    for matches in both_paths(engine).values():
        assert matches[0].components["neglect"] == 0.0
        assert matches[0].reasons[-1] == "opened 7 years ago"
