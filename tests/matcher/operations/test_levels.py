"""A learner's level from the store (verified merges, issues under way, pace), and /suggest,
the digest and its preview ranking at that level, through matcher.operations on real SQLite."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from matcher.engine import MatchEngine
from matcher.operations.answers import set_status
from matcher.operations.digests import plan_due_digests, preview_digest
from matcher.operations.levels import level_for
from matcher.operations.profiles import (
    clean_profile_update,
    save_profile,
    set_digest,
    show_profile,
    update_profile,
)
from matcher.operations.suggestions import record_suggestions, suggest
from matcher.store import portfolio as identity_store
from matcher.store.issues import upsert_issues
from matcher.store.learners import get_learner
from tests.fakes.embedder import HashingEmbedder
from tests.matcher.test_ramp_ranking import BUG_TASK, DOCS_PR, DOCS_TASK, HF, OTHERS

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)  # a Monday, after the 09:00 digest slot
STEP_UP = f"a step up from your merged docs PR in {HF}"


def learner(db, learner_id: str, *, login: str | None = None, verified: bool = True) -> None:
    """A learner with a profile; with `login`, their GitHub login (verified or only claimed)
    and one merged docs PR under it."""
    update = clean_profile_update(skills="tokenizer padding truncation", niche="NLP")
    save_profile(db, learner_id, update, now=NOW - timedelta(days=30))
    if login is None:
        return
    github_id = 9000 + int(learner_id)
    identity_store.save_claim(db, learner_id, login, "7" * 64, NOW + timedelta(days=1))
    if verified:
        identity_store.mark_verified(db, learner_id, github_id, login)
    identity_store.add_contributions(
        db, [replace(DOCS_PR, author_id=github_id, author_login=login)]
    )


@pytest.fixture
def engine(db, settings):
    upsert_issues(db, [DOCS_TASK, BUG_TASK, *OTHERS])
    return MatchEngine(db, settings, embedder=HashingEmbedder())


def urls(matches):
    return [m.issue.url for m in matches]


def test_the_level_counts_verified_merges_and_issues_under_way(db, engine):
    learner(db, "1", login="ada-docs")
    level = level_for(db, get_learner(db, "1"))
    assert (level.ready, level.basis_in().phrase) == (2, STEP_UP.removeprefix("a step up from "))

    learner(db, "2", login="not-proven", verified=False)  # anyone can type a login
    assert level_for(db, get_learner(db, "2")).ready == 1

    learner(db, "3")
    record_suggestions(db, "3", [BUG_TASK.url, DOCS_TASK.url], via="suggest", now=NOW)
    set_status(db, "3", DOCS_TASK.url, "interested", guild_id=None, now=NOW)
    assert level_for(db, get_learner(db, "3")).ready == 1  # interest is no evidence
    set_status(db, "3", BUG_TASK.url, "working", guild_id=None, now=NOW)
    working = level_for(db, get_learner(db, "3"))
    assert working.ready == 2
    assert working.basis_in().phrase == f"the bug fix you are working on in {HF}"


def test_suggest_ranks_a_step_up_after_a_merged_docs_pr_and_easier_when_asked(db, engine):
    learner(db, "1")
    newcomer = suggest(db, engine, "1", guild_id=None, count=2, now=NOW).matches
    assert urls(newcomer) == [DOCS_TASK.url, BUG_TASK.url]

    learner(db, "2", login="ada-docs")
    stepped = suggest(db, engine, "2", guild_id=None, count=2, now=NOW).matches
    assert urls(stepped) == [BUG_TASK.url, DOCS_TASK.url]
    assert STEP_UP in stepped[0].reasons

    update_profile(db, "2", guild_id=None, now=NOW, pace="easier")
    easier = suggest(db, engine, "2", guild_id=None, count=2, now=NOW).matches
    assert urls(easier) == [DOCS_TASK.url, BUG_TASK.url]
    assert "an easier one, as you asked" in easier[0].reasons


def test_the_digest_and_its_preview_rank_at_the_learners_level(db, engine):
    learner(db, "1", login="ada-docs")
    preview = preview_digest(db, engine, "1", now=NOW, top_k=2)
    assert urls(preview.matches) == [BUG_TASK.url, DOCS_TASK.url]
    assert STEP_UP in preview.matches[0].reasons

    set_digest(db, "1", True, now=NOW - timedelta(days=20))
    (planned,) = plan_due_digests(db, engine, now=NOW, top_k=2).digests
    assert urls(planned.matches) == [BUG_TASK.url, DOCS_TASK.url]
    assert STEP_UP in planned.matches[0].reasons


def test_profile_show_says_where_the_learner_stands(db, engine):
    learner(db, "1", login="ada-docs")
    view = show_profile(db, "1")
    assert view.level is not None and (view.level.ready, view.level.pace) == (2, "auto")
    harder = update_profile(db, "1", guild_id=None, now=NOW, pace="HARDER")
    assert harder.learner.pace == "harder" and harder.level.target == 3
