"""The difficulty ramp in the ranking: a learner's level from their merged work and the issues
they are working on, the pace they ask for, and the term both ranking paths add for it."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from matcher.engine import MatchEngine
from matcher.errors import ProfileError
from matcher.models import Contribution, Level, Profile
from matcher.ramp import level_of, level_text, off_target, step_reason, validate_pace
from matcher.ranking import task_type
from matcher.signals import kind_step, ramp_fits, ramp_reason
from matcher.store.issues import upsert_issues
from tests.conftest import NOW, make_issue
from tests.fakes.embedder import HashingEmbedder
from tests.matcher.test_index import PROFILES, pool

HF = "huggingface/transformers"


def merged(n: int, title: str, labels=(), repo: str = HF, days: int = 10, **extra) -> Contribution:
    return Contribution(
        url=f"https://github.com/{repo}/pull/{n}",
        repo=repo,
        number=n,
        title=title,
        merged_at=NOW - timedelta(days=days),
        labels=tuple(labels),
        **extra,
    )


DOCS_PR = merged(1, "Docs: fix the pipeline tutorial", ("documentation",))
BUG_PR = merged(2, "Fix crash on empty batch", ("bug",), repo="pytorch/vision", days=5)


# --- the level -------------------------------------------------------------------------------


def test_a_newcomer_is_ready_for_step_one_and_the_ramp_term_is_off():
    level = level_of([], [])
    assert (level.ready, level.target, level.active, level.basis) == (1, 1, False, ())
    assert level_text(level).startswith("pace auto: aiming at docs, tests and small fixes")


def test_a_merged_docs_pr_makes_a_learner_ready_for_bug_fixes():
    level = level_of([DOCS_PR])
    assert (level.ready, level.target, level.active) == (2, 2, True)
    assert level.basis_in(HF).phrase == f"your merged docs PR in {HF}"
    assert level_text(level) == (
        f"pace auto: aiming at bug fixes (step 2 of 3)\n"
        f"ready for bug fixes from your merged docs PR in {HF}"
    )


def test_a_merged_bug_fix_makes_a_learner_ready_for_features_and_sets_the_basis():
    level = level_of([DOCS_PR, BUG_PR])
    assert level.ready == 3
    assert [e.phrase for e in level.basis] == ["your merged bug fix in pytorch/vision"]


def test_a_reverted_merge_is_no_evidence():
    assert level_of([merged(3, "Fix crash on empty batch", ("bug",), reverted=True)]).ready == 1


def test_an_issue_under_way_counts_for_its_own_step_less_than_a_merge():
    bug = make_issue(7, "Tokenizer crashes on empty input", repo="org/tok", labels=("bug",))
    docs = make_issue(8, "Document the padding side", repo="org/tok", labels=("documentation",))
    assert level_of([], [docs]).ready == 1  # a docs issue under way: still step 1
    working_bug = level_of([], [bug])
    assert (working_bug.ready, working_bug.active) == (2, True)  # not 3, as a merged one would
    assert working_bug.basis_in().phrase == "the bug fix you are working on in org/tok"
    # a merged docs PR and a bug fix under way both say step 2: the merge is the basis first
    both = level_of([DOCS_PR], [bug])
    assert both.ready == 2
    assert [e.merged for e in both.basis] == [True, False]
    assert both.basis_in("org/tok").phrase == "the bug fix you are working on in org/tok"


@pytest.mark.parametrize(
    ("history", "pace", "target", "active"),
    [
        ((), "easier", 1, True),
        ((), "harder", 2, True),
        ((DOCS_PR,), "easier", 1, True),
        ((DOCS_PR,), "harder", 3, True),
        ((DOCS_PR, BUG_PR), "harder", 3, True),  # the top step stays the top step
    ],
)
def test_the_pace_moves_the_target_a_step(history, pace, target, active):
    level = level_of(history, (), pace)
    assert (level.target, level.active) == (target, active)


def test_pace_is_one_of_three_words():
    assert validate_pace(" Harder ") == "harder"
    with pytest.raises(ProfileError, match=r"pace must be one of easier, auto, harder \(got 'x"):
        validate_pace("xtreme")


# --- the term and its reason -----------------------------------------------------------------


def test_ramp_fits_rewards_the_target_step_and_difficulty_only_nudges():
    steps = np.array([1, 2, 3, 2, 2])
    hardness = np.array([0.5, 0.5, 0.5, 0.0, 1.0])
    assert ramp_fits(steps, hardness, 2).tolist() == [0.0, 1.0, 0.0, 0.75, 0.75]
    assert ramp_fits(steps, hardness, 1).tolist() == [1.0, 0.0, -1.0, 0.25, -0.25]
    assert ramp_fits(np.array([1]), np.array([0.0]), 1).tolist() == [1.0]  # never below step 1


def test_ramp_reasons_say_why_an_issue_fits_the_step():
    docs = level_of([DOCS_PR])
    assert ramp_reason(docs, "bug fix", 0.75, HF) == f"a step up from your merged docs PR in {HF}"
    assert ramp_reason(docs, "docs task", 0.75, HF) is None  # not a step up
    assert ramp_reason(docs, "bug fix", 0.25, HF) is None  # too far from the target
    assert ramp_reason(level_of([]), "bug fix", 1.0, HF) is None  # a newcomer: the term is off
    easier = level_of([DOCS_PR], (), "easier")
    assert ramp_reason(easier, "docs task", 1.0, HF) == "an easier one, as you asked"
    harder = level_of([], (), "harder")
    assert ramp_reason(harder, "bug fix", 1.0, HF) == "a harder one, as you asked"
    bug = make_issue(7, "Tokenizer crashes on empty input", repo="org/tok", labels=("bug",))
    under_way = level_of([], [bug])
    assert ramp_reason(under_way, "bug fix", 1.0, "org/tok") == (
        "the same step as the bug fix you are working on in org/tok"
    )


# --- the ranking, both paths -----------------------------------------------------------------

LEARNER = Profile(id="tok", skills="tokenizer padding truncation", niche="NLP")
DOCS_TASK = make_issue(
    1,
    "Tokenizer padding and truncation are unclear in the docs",
    "Explain tokenizer padding and truncation.",
    repo=HF,
    labels=("good first issue", "documentation"),
)
BUG_TASK = make_issue(
    2,
    "Tokenizer padding and truncation crash",
    "Padding fails on an empty batch.",
    repo=HF,
    labels=("good first issue", "bug"),
)
OTHERS = [
    make_issue(3, "Helm chart port", "Kubernetes uses the wrong port.", repo="ops/chart"),
    make_issue(4, "React dark mode", "TypeScript toggle.", repo="ui/board"),
    make_issue(5, "CUDA kernel speed up", "C++ kernel is slow.", repo="gpu/kern"),
]


@pytest.fixture
def engine(db, settings):
    upsert_issues(db, [DOCS_TASK, BUG_TASK, *OTHERS])
    return MatchEngine(db, settings, embedder=HashingEmbedder())


def both_paths(engine, profile, level, top_k=5):
    """One learner's matches alone (a batch of one) and within a batch of others, at `level`."""
    others = [Profile(id="x", skills="React, TypeScript"), Profile(id="y", skills="CUDA kernels")]
    batch = engine.match_many(
        [*others, profile],
        top_k=top_k,
        now=NOW,
        levels_by_id={profile.id: level} if level else None,
    )
    return engine.match(profile, now=NOW, top_k=top_k, level=level), batch[profile.id]


def urls(matches):
    return [m.issue.url for m in matches]


def test_after_a_merged_docs_pr_a_bug_fix_rises_above_a_comparable_docs_task(engine):
    for newcomer in both_paths(engine, LEARNER, None):
        assert urls(newcomer)[:2] == [DOCS_TASK.url, BUG_TASK.url]  # the text favours the docs
    for matches in both_paths(engine, LEARNER, level_of([DOCS_PR])):
        assert urls(matches)[:2] == [BUG_TASK.url, DOCS_TASK.url]
        bug = matches[0]
        assert bug.reasons[bug.reasons.index("bug fix") + 1] == (
            f"a step up from your merged docs PR in {HF}"
        )
        assert not any("step" in r for r in matches[1].reasons)


def test_easier_puts_the_docs_task_back_above_the_bug_fix(engine):
    for matches in both_paths(engine, LEARNER, level_of([DOCS_PR], (), "easier")):
        assert urls(matches)[:2] == [DOCS_TASK.url, BUG_TASK.url]
        assert "an easier one, as you asked" in matches[0].reasons
        assert "an easier one, as you asked" not in matches[1].reasons


@pytest.mark.parametrize("pace", ["easier", "auto", "harder"])
@pytest.mark.parametrize("history", [[DOCS_PR], [BUG_PR], [DOCS_PR, BUG_PR]])
def test_step_reason_is_the_ramp_reason_the_ranking_gives(engine, history, pace):
    """The portfolio words its next step with step_reason: the ranking's own reason, word for
    word, for the same learner and issue (or none when the ranking says none)."""
    level = level_of(history, (), pace)
    for matches in both_paths(engine, LEARNER, level):
        for m in matches[:2]:
            kind = task_type(m.issue)
            said = [r for r in m.reasons if "as you asked" in r or " step " in f" {r} "]
            assert said == [r for r in [step_reason(level, kind, m.issue.repo)] if r]
            assert off_target(level, kind_step(kind)) == abs(kind_step(kind) - level.target)


def test_off_target_is_zero_while_the_ramp_term_is_off():
    assert {off_target(level_of([]), step) for step in (1, 2, 3)} == {0}


def test_the_term_is_its_weight_times_the_fit_and_nothing_else_moves(engine):
    weight = engine.settings.ranking.ramp
    before = {m.issue.url: m for m in engine.match(LEARNER, now=NOW)}
    after = engine.match(LEARNER, now=NOW, level=level_of([DOCS_PR]))
    for m in after:
        was = before[m.issue.url]
        assert m.score == pytest.approx(was.score + weight * m.components["ramp"], abs=1e-12)
        assert {k: v for k, v in m.components.items() if k != "ramp"} == {
            k: v for k, v in was.components.items() if k != "ramp"
        }
    fit = {m.issue.url: m.components["ramp"] for m in after}
    assert fit[BUG_TASK.url] > fit[DOCS_TASK.url]


def test_a_newcomer_on_the_auto_pace_ranks_exactly_as_without_a_level(engine):
    for with_level, without in zip(
        both_paths(engine, LEARNER, level_of([], [])),
        both_paths(engine, LEARNER, None),
        strict=True,
    ):
        assert [(m.issue.url, m.score, m.reasons) for m in with_level] == [
            (m.issue.url, m.score, m.reasons) for m in without
        ]
        assert all(m.components["ramp"] == 0.0 for m in with_level)


def test_levels_rank_identically_in_a_batch_and_alone(db, settings):
    engine = MatchEngine(db, settings, embedder=HashingEmbedder())
    upsert_issues(db, pool(seed=4))
    levels = {
        "a": level_of([DOCS_PR]),
        "b": level_of([DOCS_PR, BUG_PR], (), "easier"),
        "c": level_of([], (), "harder"),
        "d": level_of([]),  # e: no level at all
    }
    fast = engine.match_many(PROFILES, top_k=12, now=NOW, levels_by_id=levels)
    for profile in PROFILES:
        old = engine.match(profile, now=NOW, top_k=12, level=levels.get(profile.id))
        assert urls(fast[profile.id]) == urls(old)
        for new, was in zip(fast[profile.id], old, strict=True):
            assert (new.reasons, new.components) == (was.reasons, was.components)
            assert new.score == pytest.approx(was.score, abs=1e-6)
    steps = [kind_step(task_type(m.issue)) for m in fast["a"]]
    assert any(s == 2 for s in steps)


def test_the_ramp_weight_is_in_the_settings_and_can_be_turned_off(db, settings):
    assert settings.ranking.ramp == 0.1
    off = settings.model_copy(update={"ranking": settings.ranking.model_copy(update={"ramp": 0.0})})
    engine = MatchEngine(db, off, embedder=HashingEmbedder())
    upsert_issues(db, [DOCS_TASK, BUG_TASK, *OTHERS])
    assert urls(engine.match(LEARNER, now=NOW, level=level_of([DOCS_PR])))[:2] == [
        DOCS_TASK.url,
        BUG_TASK.url,
    ]


def test_a_level_with_nothing_to_say_is_a_plain_level():
    assert Level() == level_of([], [])
