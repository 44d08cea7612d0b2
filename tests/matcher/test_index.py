"""The warm ranking index: incremental refresh, masks, and the reference path's results."""

from __future__ import annotations

import dataclasses
import random
from datetime import timedelta

import pytest

from matcher.engine import MatchEngine
from matcher.lexical import ENGLISH_STOP_WORDS
from matcher.models import Feedback, Profile
from matcher.ranking import fit_before_labels, rank, score_candidates, task_type
from matcher.snapshot import demo_snapshot_path, read_snapshot
from matcher.store.issues import upsert_issues
from matcher.store.sync_state import mark_unlisted
from tests.conftest import NOW, make_issue
from tests.fakes.embedder import HashingEmbedder

TOPICS = [
    ("PyTorch tokenizer bug", "The tokenizer drops tokens in PyTorch."),
    ("librosa mel spectrogram example", "Show audio features with librosa."),
    ("Helm chart port", "Kubernetes deployment uses the wrong port."),
    ("React dashboard dark mode", "TypeScript UI toggle."),
    ("Typo in docs", "Fix the README typo."),
    ("pandas CSV loader test", "Add pytest unit tests for the loader."),
    ("CUDA kernel speed up", "C++ kernel is slow on large batches."),
    ("Gymnasium Atari wrapper", "Stack frames for reinforcement learning."),
]
LANGUAGES = ["Python", "C++", "TypeScript", None, "Jupyter Notebook"]


def pool(size: int = 60, seed: int = 1):
    rng = random.Random(seed)
    issues = []
    for n in range(1, size + 1):
        title, body = rng.choice(TOPICS)
        issues.append(
            make_issue(
                n,
                f"{title} {n % 7}",
                body,
                repo=f"org/r{rng.randrange(6)}",
                labels=rng.choice([("good first issue",), ("help wanted",), ("hard",), ()]),
                language=rng.choice(LANGUAGES),
                comments=rng.randrange(0, 30),
                assignees=("x",) if rng.random() < 0.15 else (),
                updated_at=NOW.replace(month=rng.randrange(1, 11)),
            )
        )
    return [_activity(issue) for issue in issues]


def _activity(issue):
    """Some issues idle for over a year, some with comments waiting: the neglect term varies."""
    n = issue.number
    if n % 9 == 0:
        issue = dataclasses.replace(issue, updated_at=NOW - timedelta(days=300 + 40 * n))
    if n % 4 == 0:
        since = NOW - timedelta(days=10 + 7 * n, seconds=n)
        issue = dataclasses.replace(issue, unanswered_comments=n % 3 + 1, unanswered_since=since)
    return issue


PROFILES = [
    Profile(id="a", skills="PyTorch, tokenizers", niche="NLP", languages="Python"),
    Profile(id="b", skills="librosa, Python", niche="audio"),
    Profile(id="c", skills="Kubernetes, Helm, Docker", niche="MLOps"),
    Profile(id="d", skills="TypeScript, React", niche="dashboards", languages="TypeScript"),
    Profile(id="e", skills="C++, CUDA", niche="fast inference"),
]


@pytest.fixture
def engine(db, settings):
    return MatchEngine(db, settings, embedder=HashingEmbedder())


def urls(matches):
    return [m.issue.url for m in matches]


def reference(engine, profiles, top_k=10, feedback=None):
    """The ranking as it was before the index: fit the pool per call, rank one by one."""
    candidates = engine.candidates()
    results = {}
    for profile, query in zip(profiles, engine.queries(profiles), strict=True):
        said = (feedback or {}).get(profile.id)
        results[profile.id] = rank(
            query,
            candidates,
            settings=engine.settings.ranking,
            labels=engine.catalog.labels,
            now=NOW,
            top_k=top_k,
            feedback=said,
            shift=engine._shift(candidates, said),
        )
    return results


def test_batch_ranking_equals_the_reference_path(engine):
    upsert_issues(engine.db, pool())
    feedback = {
        "a": Feedback(dismissed=frozenset({pool()[0].url}), liked=frozenset({pool()[5].url})),
        "c": Feedback(hidden=frozenset(i.url for i in pool()[:20])),
    }
    fast = engine.match_many(PROFILES, top_k=12, feedback_by_id=feedback, now=NOW)
    old = reference(engine, PROFILES, top_k=12, feedback=feedback)
    for profile in PROFILES:
        assert urls(fast[profile.id]) == urls(old[profile.id])
        for new, was in zip(fast[profile.id], old[profile.id], strict=True):
            assert new.reasons == was.reasons
            assert new.components == was.components
            assert new.score == pytest.approx(was.score, abs=1e-6)
    shown = [m for matches in fast.values() for m in matches]
    assert {m.components["neglect"] > 0 for m in shown} == {True, False}  # both kinds compared


def test_single_learner_equals_the_reference_path_exactly(engine):
    upsert_issues(engine.db, pool(seed=5))
    for profile in PROFILES:
        fast = engine.match(profile, now=NOW, top_k=15)
        old = reference(engine, [profile], top_k=15)[profile.id]
        assert [(m.issue.url, m.score) for m in fast] == [(m.issue.url, m.score) for m in old]


def test_focus_pools_fit_bm25_on_their_own_issues(engine):
    issues = pool(80, seed=3)
    upsert_issues(engine.db, issues)
    repos = ["org/r1", "ORG/r2"]
    fast = engine.match(PROFILES[0], now=NOW, repos=repos, top_k=20)
    candidates = engine.candidates(repos=repos)
    query = engine.queries([PROFILES[0]])[0]
    old = rank(
        query,
        candidates,
        settings=engine.settings.ranking,
        labels=engine.catalog.labels,
        now=NOW,
        top_k=20,
    )
    assert [(m.issue.url, m.score) for m in fast] == [(m.issue.url, m.score) for m in old]
    assert {m.issue.repo for m in fast} <= {"org/r1", "org/r2"}


def test_changes_in_the_store_show_up_without_a_rebuild(engine):
    issues = pool(40)
    upsert_issues(engine.db, issues)
    profile = Profile(skills="librosa audio spectrogram")
    engine.match(profile, now=NOW)
    index = engine.index
    read = index.rows_read
    engine.match(profile, now=NOW)
    assert index.rows_read == read  # nothing changed since the last ranking: nothing read

    def only_one_row_read():
        nonlocal read
        read, before = index.rows_read, read
        return engine.index is index and read - before == 1

    new = make_issue(500, "librosa spectrogram librosa audio", "librosa librosa", repo="new/one")
    upsert_issues(engine.db, [new])
    assert engine.match(profile, now=NOW)[0].issue.url == new.url
    assert only_one_row_read()

    upsert_issues(engine.db, [dataclasses.replace(new, assignees=("someone",))])  # taken
    assert new.url not in urls(engine.match(profile, now=NOW))
    assert only_one_row_read()

    changed = dataclasses.replace(new, title="Kubernetes Helm chart", body="Helm values")
    upsert_issues(engine.db, [changed])  # its text changed (and it is free again)
    helm = engine.match(Profile(skills="Kubernetes Helm chart"), now=NOW, top_k=40)
    assert only_one_row_read()
    reasons = next(m.reasons for m in helm if m.issue.url == new.url)
    assert "matches: Kubernetes Helm chart" in reasons  # the phrase as the learner wrote it
    librosa = engine.match(profile, now=NOW, top_k=40)
    assert not any("librosa" in r for m in librosa if m.issue.url == new.url for r in m.reasons)

    upsert_issues(engine.db, [dataclasses.replace(new, state="closed")])  # closed
    assert new.url not in urls(engine.match(Profile(skills="Kubernetes Helm chart"), now=NOW))
    assert only_one_row_read()

    mark_unlisted(engine.db, [issues[0].url])  # a full sync pass no longer lists it
    everything = engine.match(Profile(skills="Python"), now=NOW, top_k=200)
    assert issues[0].url not in urls(everything)
    assert only_one_row_read()


@pytest.mark.parametrize("seed", range(4))
def test_dismissed_and_hidden_issues_never_leak(engine, seed):
    issues = pool(70, seed=seed)
    upsert_issues(engine.db, issues)
    rng = random.Random(seed)
    feedback = {
        p.id: Feedback(
            dismissed=frozenset(rng.choice(issues).url for _ in range(5)),
            hidden=frozenset(rng.choice(issues).url for _ in range(25)),
        )
        for p in PROFILES
    }
    results = engine.match_many(PROFILES, top_k=40, feedback_by_id=feedback, now=NOW)
    for profile in PROFILES:
        shown = set(urls(results[profile.id]))
        said = feedback[profile.id]
        assert not shown & (said.dismissed | said.hidden)
        assert not any(m.issue.is_taken for m in results[profile.id])  # claimed: never shown
        single = engine.match(profile, feedback=said, now=NOW, top_k=40)
        assert urls(single) == urls(results[profile.id])


def test_background_embedding_keeps_requests_off_the_model(db, settings):
    embedder = HashingEmbedder()
    engine = MatchEngine(db, settings, embedder=embedder, embed_in_background=True)
    upsert_issues(db, pool(30))
    engine.match(Profile(skills="PyTorch"), now=NOW)  # may answer before the pool is embedded
    engine.wait_for_embedding(30)
    assert not engine.index.pending
    assert len(engine.match(Profile(skills="PyTorch"), now=NOW, top_k=50)) > 20


def test_stop_words_are_scikit_learns():
    sklearn_text = pytest.importorskip("sklearn.feature_extraction.text")
    assert ENGLISH_STOP_WORDS == sklearn_text.ENGLISH_STOP_WORDS


def test_profiles_are_encoded_once(db, settings):
    class Counting(HashingEmbedder):
        encoded = 0

        def encode(self, texts):
            Counting.encoded += len(texts)
            return super().encode(texts)

    engine = MatchEngine(db, settings, embedder=Counting())
    upsert_issues(db, pool(10))
    engine.match_many(PROFILES, now=NOW)
    before = Counting.encoded
    engine.match_many(PROFILES, now=NOW)
    engine.match(PROFILES[0], now=NOW)
    assert Counting.encoded == before


# --- issue 13: the hard-label rule and the task-fit term, the same in both paths ------------------
HELM = Profile(id="helm", skills="Kubernetes, Helm charts", niche="MLOps")


def hard_and_beginner():
    """A hard-only issue that fits a little better than a beginner one which is old and busy."""
    text = "The Kubernetes Helm chart sets the wrong port in values.yaml."
    return [
        make_issue(
            1,
            "Kubernetes Helm chart sets the wrong port",
            text,
            repo="ops/deploy",
            labels=("bug", "complex"),
        ),
        make_issue(
            2,
            "Wrong port in values.yaml",
            text,
            repo="ops/chart",
            labels=("good first issue",),
            comments=20,
            updated_at=NOW.replace(year=2024),
        ),
        make_issue(3, "React dashboard dark mode", "TypeScript UI.", repo="ui/board", labels=()),
    ]


def test_a_hard_issue_ranks_below_a_comparable_beginner_one_in_both_paths(engine):
    issues = hard_and_beginner()
    upsert_issues(engine.db, issues)
    settings = engine.settings.ranking
    query = engine.queries([HELM])[0]
    score, parts = score_candidates(
        query, engine.candidates(), settings=settings, labels=engine.catalog.labels, now=NOW
    )
    position = {i.url: k for k, i in enumerate(engine.candidates().issues)}
    hard, easy = position[issues[0].url], position[issues[1].url]
    fit = fit_before_labels(parts, settings)
    assert score[hard] > score[easy]  # without the rule the hard issue would come first
    assert fit[easy] >= fit[hard] - settings.hard_label_margin  # yet the two are comparable

    for matches in (engine.match(HELM, now=NOW), reference(engine, [HELM])["helm"]):
        assert urls(matches)[:2] == [issues[1].url, issues[0].url]
        assert matches[1].reasons[0] == "labelled 'complex': harder than a first issue"
        assert not any("harder" in r for r in matches[0].reasons)
    assert engine.match(HELM, now=NOW)[1].score == reference(engine, [HELM])["helm"][1].score


def test_a_dismissed_beginner_issue_no_longer_holds_the_hard_one_down(engine):
    issues = hard_and_beginner()
    upsert_issues(engine.db, issues)
    said = Feedback(dismissed=frozenset({issues[1].url}))
    fast = engine.match(HELM, feedback=said, now=NOW)
    old = reference(engine, [HELM], feedback={"helm": said})["helm"]
    assert urls(fast)[0] == urls(old)[0] == issues[0].url
    candidates = engine.candidates()
    score, _ = score_candidates(
        engine.queries([HELM])[0],
        candidates,
        settings=engine.settings.ranking,
        labels=engine.catalog.labels,
        now=NOW,
        shift=engine._shift(candidates, said),  # close to the dismissed issue: it sinks a little
    )
    first = [i.url for i in candidates.issues].index(issues[0].url)
    assert fast[0].score == old[0].score == score[first]  # its own score: nothing held it down


def test_task_fit_counts_and_says_the_kind_asked_for_in_both_paths(engine):
    upsert_issues(engine.db, pool(seed=2))
    docs = Profile(id="docs", skills="technical writing, documentation, README", niche="NLP")
    fast = engine.match(docs, now=NOW, top_k=30)
    old = reference(engine, [docs], top_k=30)["docs"]
    assert [m.reasons for m in fast] == [m.reasons for m in old]
    asked = [m for m in fast if "a docs task, the kind of work you asked for" in m.reasons]
    assert asked and all(m.components["task"] == 1.0 for m in asked)
    assert all(m.components["task"] == -1.0 for m in fast if task_type(m.issue) == "tests task")


def test_the_demo_complex_issue_no_longer_outranks_beginner_issues_for_mlops(db, settings):
    engine = MatchEngine(db, settings, embedder=HashingEmbedder())
    upsert_issues(db, read_snapshot(demo_snapshot_path()).issues)
    learner = Profile(id="mlops", skills="Docker, GitHub Actions", niche="MLOps")
    ranking = settings.ranking
    for matches in (
        engine.match(learner, now=NOW, top_k=500),
        reference(engine, [learner], top_k=500)["mlops"],
    ):
        at = urls(matches).index(COMPLEX)
        fit = [
            ranking.dense * m.components["dense"] + ranking.lexical * m.components["lexical"]
            for m in matches
        ]
        outranked = [  # scores, not places: the per-repository cap may move an issue down
            m.issue.url
            for m, f in zip(matches, fit, strict=True)
            if m.components["label"] > 0
            and f >= fit[at] - ranking.hard_label_margin + 1e-3
            and m.score <= matches[at].score
        ]
        assert outranked == []
        assert at >= 10 and matches[at].reasons[0].startswith("labelled 'complex'")


COMPLEX = "https://github.com/kubeflow/pipelines/issues/1259"
