"""Issue signals: difficulty estimate, hard-label reason, the hard-below-beginner rule."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matcher.catalog import load_labels
from matcher.models import Issue
from matcher.ranking import TASK_TYPES
from matcher.signals import (
    NEUTRAL,
    difficulty,
    difficulty_penalty,
    hard_label,
    hard_label_reason,
    keep_hard_below_beginner,
    kinds_asked,
    task_fit,
    task_fit_reason,
)


@pytest.fixture(scope="module")
def labels():
    return load_labels()


def issue(title: str = "Improve the loader", body: str = "", labels: tuple[str, ...] = ()) -> Issue:
    return Issue(
        url=f"https://github.com/o/r/issues/{abs(hash(title)) % 1000}",
        repo="o/r",
        number=1,
        title=title,
        body=body,
        labels=labels,
    )


def test_hard_label_reason_names_the_label_as_spelled(labels):
    complex_issue = issue(labels=("bug", "Complex"))
    assert hard_label(complex_issue, labels) == "Complex"
    assert (
        hard_label_reason(complex_issue, labels) == "labelled 'Complex': harder than a first issue"
    )


def test_no_hard_label_no_reason(labels):
    assert hard_label_reason(issue(labels=("good first issue", "bug")), labels) is None


def test_umbrella_labels_count_as_hard(labels):
    assert hard_label(issue(labels=("roadmap",)), labels) == "roadmap"


def test_nothing_said_is_neutral(labels):
    assert difficulty(issue(), labels) == NEUTRAL


def test_beginner_label_is_easier_than_hard_label(labels):
    easy = difficulty(issue(labels=("good first issue",)), labels, "docs task")
    plain = difficulty(issue(), labels)
    hard = difficulty(issue(labels=("complex",)), labels, "feature")
    assert easy < plain < hard


def test_named_file_is_easier_and_traceback_and_long_body_harder(labels):
    plain = difficulty(issue(body="The loader is slow."), labels)
    pointed = difficulty(issue(body="See `docs/source/loader.rst` for the wording."), labels)
    traced = difficulty(
        issue(body="Traceback (most recent call last):\n  File x\nValueError: bad"), labels
    )
    long_body = difficulty(issue(body="word " * 400), labels)
    assert pointed < plain < traced
    assert long_body > plain


def test_umbrella_title_is_harder(labels):
    assert difficulty(issue(title="Tracking issue: new backends"), labels) > NEUTRAL


def test_difficulty_stays_in_range(labels):
    hardest = issue(
        title="RFC: roadmap", body="```a```\n```b```\n" + "x" * 2000, labels=("complex", "epic")
    )
    easiest = issue(body="Edit README.md", labels=("good first issue",))
    assert difficulty(hardest, labels, "performance") <= 1.0
    assert difficulty(easiest, labels, "docs task") >= 0.0
    assert list(difficulty_penalty(np.array([0.0, 0.5, 1.0]))) == [-0.5, 0.0, 0.5]


def test_hard_issue_drops_below_comparable_beginner_issue():
    score = np.array([0.9, 0.7, 0.5])
    fit = np.array(
        [0.60, 0.55, 0.30]
    )  # issue 0 (hard) fits best, issue 1 (beginner) nearly as well
    hard = np.array([True, False, False])
    beginner = np.array([False, True, False])
    out = keep_hard_below_beginner(score, fit, hard, beginner, margin=0.1)
    assert out[0] < out[1]
    assert out[0] > out[2]  # an unlabelled issue it beat stays below
    assert list(out[1:]) == [0.7, 0.5]


def test_hard_issue_keeps_its_place_over_a_far_worse_fit():
    score = np.array([0.9, 0.7])
    fit = np.array([0.60, 0.20])  # the beginner issue is not comparable: far off the learner
    out = keep_hard_below_beginner(score, fit, np.array([True, False]), np.array([False, True]))
    assert list(out) == [0.9, 0.7]


def test_hard_issue_goes_below_the_lowest_comparable_beginner_issue():
    score = np.array([0.9, 0.8, 0.6, 0.4])
    fit = np.array([0.5, 0.7, 0.45, 0.1])
    hard = np.array([True, False, False, False])
    beginner = np.array([False, True, True, True])
    out = keep_hard_below_beginner(score, fit, hard, beginner, margin=0.1)
    assert out[2] > out[0] > out[3]  # below both comparable ones, above the far-off one


@settings(max_examples=200, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    size=st.integers(1, 40),
    margin=st.sampled_from([0.0, 0.05, 0.3, 1.0]),
)
def test_the_rule_is_its_definition_issue_by_issue(seed, size, margin):
    """Each hard-only issue goes just below the lowest-scoring shown beginner issue whose fit
    reaches its own less the margin, when it scored at or above it; nothing else moves."""
    rng = np.random.default_rng(seed)
    # few distinct fits: a beginner issue often sits exactly at a threshold
    score, fit = rng.choice([0.1, 0.5, 0.9], size) + rng.random(size) / 4, rng.choice(4, size) / 4
    hard, beginner, eligible = rng.random((3, size)) < 0.4
    out = keep_hard_below_beginner(score, fit, hard, beginner, margin, eligible=eligible)
    expected = score.copy()
    for h in np.flatnonzero(hard & ~beginner):
        comparable = beginner & eligible & (fit >= fit[h] - margin)
        if comparable.any() and score[h] >= score[comparable].min():
            expected[h] = np.nextafter(score[comparable].min(), -np.inf) - 1e-9
    assert out.tolist() == expected.tolist()


def test_issue_with_both_labels_counts_as_beginner():
    score = np.array([0.9, 0.7])
    fit = np.array([0.5, 0.5])
    out = keep_hard_below_beginner(score, fit, np.array([True, False]), np.array([True, True]))
    assert list(out) == [0.9, 0.7]


def test_rule_does_not_change_its_input():
    score = np.array([0.9, 0.7])
    keep_hard_below_beginner(
        score, np.array([0.5, 0.5]), np.array([True, False]), np.array([False, True])
    )
    assert list(score) == [0.9, 0.7]


def test_kinds_asked_reads_the_learners_words():
    from matcher.ranking import TASK_TYPES

    writer = kinds_asked("technical writing, tutorials. documentation of ML libraries", TASK_TYPES)
    assert writer == frozenset({"docs task"})
    assert "CI / tooling" in kinds_asked("docker github actions ci workflows", TASK_TYPES)
    assert kinds_asked("python pytorch computer vision", TASK_TYPES) == frozenset()


def test_task_fit_rewards_asked_kinds_and_penalises_unasked_generic_work():
    docs = frozenset({"docs task"})
    assert task_fit("docs task", docs) == 1.0
    assert task_fit("docs task", frozenset()) == -1.0
    assert task_fit("tests task", docs) == -1.0
    assert task_fit("feature", docs) == 0.0  # topical kinds are left to the text terms
    assert task_fit(None, docs) == 0.0


def test_task_fit_reason_only_when_kinds_agree():
    assert task_fit_reason("docs task", frozenset({"docs task"})) == (
        "a docs task, the kind of work you asked for"
    )
    assert task_fit_reason("docs task", frozenset()) is None


def test_only_eligible_beginner_issues_hold_a_hard_issue_down():
    score = np.array([0.9, 0.7, 0.2])
    fit = np.array([0.5, 0.5, 0.5])
    hard = np.array([True, False, False])
    beginner = np.array([False, True, True])
    taken = np.array([True, True, False])  # issue 2 is taken: not shown, so it does not count
    out = keep_hard_below_beginner(score, fit, hard, beginner, margin=0.1, eligible=taken)
    assert out[2] < out[0] < out[1]


def test_task_fit_reason_reads_as_english_for_every_kind():
    kinds = [name for name, _ in TASK_TYPES]
    said = [task_fit_reason(kind, frozenset(kinds)) for kind in kinds]
    assert "CI / tooling work, the kind of work you asked for" in said
    assert "an example, the kind of work you asked for" in said
    assert "a bug fix, the kind of work you asked for" in said
    assert not any(s.startswith(("a CI", "a performance", "a typing", "a example")) for s in said)


def brute_force_hold(score, fit, hard, beginner, margin, eligible):
    """The rule as its docstring states it, one hard issue at a time."""
    out = score.astype(float).copy()
    easy = [b for b in range(len(score)) if beginner[b] and eligible[b]]
    for h in range(len(score)):
        if not hard[h] or beginner[h]:
            continue
        comparable = [score[b] for b in easy if fit[b] >= fit[h] - margin]
        if comparable and score[h] >= min(comparable):
            out[h] = np.nextafter(min(comparable), -np.inf) - 1e-9
    return out


@pytest.mark.parametrize("seed", range(20))
def test_the_rule_matches_its_definition_on_random_pools(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 80))
    fit = rng.choice([0.1, 0.2, 0.35, 0.5], n) if seed % 2 else rng.random(n)  # ties too
    score = fit + rng.normal(0, 0.2, n)
    hard, beginner = rng.random(n) < 0.3, rng.random(n) < 0.5
    eligible = rng.random(n) < 0.8
    got = keep_hard_below_beginner(score, fit, hard, beginner, 0.3, eligible=eligible)
    assert np.array_equal(got, brute_force_hold(score, fit, hard, beginner, 0.3, eligible))
