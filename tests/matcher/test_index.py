"""The one scorer and the warm index: properties of the scorer (order independence, a batch
equals its learners alone, reasons agree with the terms), incremental refresh from the store's
change counter, and a refresh that never holds a request up."""

from __future__ import annotations

import dataclasses
import random
import threading
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

import matcher.engine
from matcher.catalog import load_catalog
from matcher.embedding import embed_pending
from matcher.engine import MatchEngine, query_for
from matcher.lexical import ENGLISH_STOP_WORDS, tokenize
from matcher.models import Feedback, Profile
from matcher.ranking import pool as ranking_pool
from matcher.ranking import task_type, terms
from matcher.ranking.pool import Lexicon, build_pool, row_columns, snapshot_of
from matcher.ranking.score import rank_batch
from matcher.settings import load_settings
from matcher.snapshot import demo_snapshot_path, read_snapshot
from matcher.store import issues as issue_store
from matcher.store.issues import change_mark, mark_unlisted, save_welcome, upsert_issues
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


OTHER = Profile(id="other", skills="CUDA kernels, C++", niche="fast inference")


def in_a_batch(engine, profile, **kwargs):
    """One learner's matches ranked in a batch beside another learner."""
    feedback = kwargs.pop("feedback", None)
    return engine.match_many(
        [OTHER, profile], feedback_by_id={profile.id: feedback} if feedback else None, **kwargs
    )[profile.id]


def same_lists(one, other):
    """The same issues in the same order, reasons and terms; scores equal to float32 rounding."""
    assert urls(one) == urls(other)
    for a, b in zip(one, other, strict=True):
        assert a.reasons == b.reasons
        # components are rounded to 4 places: float32 rounding may put the two sides apart by one
        assert a.components.keys() == b.components.keys()
        assert all(abs(a.components[k] - b.components[k]) <= 1.5e-4 for k in a.components)
        assert a.score == pytest.approx(b.score, abs=1e-6)


# --- properties of the one scorer, on pools built in memory -----------------------------------
EMBEDDER = HashingEmbedder()
LABELS = load_catalog().labels


def ranked(issues, profiles, *, feedback=None, top_k=15):
    """rank_batch over `issues` for `profiles` in one batch (the scorer alone, no store)."""
    lexicon = Lexicon()
    vectors = EMBEDDER.encode([i.embedding_text() for i in issues])
    pool = build_pool(snapshot_of(issues, vectors, LABELS, lexicon), np.arange(len(issues)))
    texts = [p.query_text() for p in profiles]
    queries = [query_for(t, v) for t, v in zip(texts, EMBEDDER.encode(texts), strict=True)]
    return rank_batch(
        pool,
        queries,
        settings=load_settings().ranking,
        labels=LABELS,
        now=NOW,
        lexicon=lexicon,
        top_k=top_k,
        feedback=feedback,
    )


@hypothesis_settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), size=st.integers(8, 70))
def test_the_order_of_the_pool_changes_nothing(seed, size):
    issues = pool(size, seed=seed)
    shuffled = random.Random(seed).sample(issues, len(issues))
    for forward, backward in zip(ranked(issues, PROFILES), ranked(shuffled, PROFILES), strict=True):
        same_lists(forward, backward)


@hypothesis_settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), size=st.integers(8, 70), who=st.integers(0, 4))
def test_a_batch_ranks_each_learner_as_alone(seed, size, who):
    issues = pool(size, seed=seed)
    rng = random.Random(seed)
    feedback = [Feedback(hidden=frozenset(rng.choice(issues).url for _ in range(5)))] * 5
    batch = ranked(issues, PROFILES, feedback=feedback)
    alone = ranked(issues, [PROFILES[who]], feedback=feedback[:1])
    same_lists(batch[who], alone[0])


@hypothesis_settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), size=st.integers(8, 70))
def test_reasons_say_what_the_terms_that_scored_the_issue_say(seed, size):
    issues = pool(size, seed=seed)
    by_url = {issue.url: issue for issue in issues}  # a match's issue comes without its body
    for profile, matches in zip(PROFILES, ranked(issues, PROFILES, top_k=40), strict=True):
        query = query_for(profile.query_text(), np.zeros(4))
        for m in matches:
            said, terms = " | ".join(m.reasons), m.components
            words = [r.removeprefix("matches: ") for r in m.reasons if r.startswith("matches: ")]
            named = words[0].split(", ") if words else []
            # a phrase named whole has all its words in both; a half names its word first
            named_words = {w for n in named for w in tokenize(n.split(" of ")[0].strip('"'))}
            text = by_url[m.issue.url].embedding_text()
            assert named_words <= set(tokenize(text)) & set(query.terms)
            assert bool(named) == (terms["lexical"] > 0)
            assert ("close to your profile" in said) == (terms["dense"] >= 0.3) or (
                abs(terms["dense"] - 0.3) < 1e-4
            )
            assert ("which you know" in said) == (terms["language"] > 0)
            assert ("not among your languages" in said) == (terms["language"] < 0)
            assert ("the kind of work you asked for" in said) == (terms["task"] == 1.0)
            assert ("harder than a first issue" in said) == (terms["hard"] > 0)
            assert ("labelled 'good first issue'" in said) == (terms["label"] > 0) or (
                "labelled 'help wanted'" in said
            )
            if "it may be abandoned" in said or "waiting for a maintainer" in said:
                assert terms["neglect"] > 0
            assert m.issue.is_taken is False


def test_alone_and_in_a_batch_the_store_path_ranks_alike(engine):
    upsert_issues(engine.db, pool(seed=5))
    feedback = {
        "a": Feedback(dismissed=frozenset({pool()[0].url}), liked=frozenset({pool()[5].url})),
        "c": Feedback(hidden=frozenset(i.url for i in pool()[:20])),
    }
    batch = engine.match_many(PROFILES, top_k=12, feedback_by_id=feedback, now=NOW)
    for profile in PROFILES:
        alone = engine.match(profile, top_k=12, feedback=feedback.get(profile.id), now=NOW)
        same_lists(batch[profile.id], alone)
    shown = [m for matches in batch.values() for m in matches]
    assert {m.components["neglect"] > 0 for m in shown} == {True, False}  # both kinds compared


def test_focus_pools_fit_bm25_on_their_own_issues(engine):
    issues = pool(80, seed=3)
    upsert_issues(engine.db, issues)
    repos = ["org/r1", "ORG/r2"]
    focus = engine.match(PROFILES[0], now=NOW, repos=repos, top_k=20)
    own = [i for i in issues if i.repo in ("org/r1", "org/r2")]
    alone = ranked(own, [PROFILES[0]], top_k=20)[0]  # a pool of only those issues
    assert urls(focus) == urls(alone)
    assert {m.issue.repo for m in focus} <= {"org/r1", "org/r2"}


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


def test_a_refresh_prepares_the_new_pool_before_a_request_ranks_with_it(engine):
    """The terms no learner changes (at the latest request's minute), the hard-label rule and
    the word rows the previous pool computed are ready in the new pool when it is swapped in."""
    upsert_issues(engine.db, pool(40))
    profile = Profile(skills="librosa audio spectrogram, speech recognition")
    engine.match(profile, now=NOW)
    before = engine.index.pool()
    asked = set(before.bm25.kept.keys())
    assert asked and before.phrase_rows  # the learner's words and their phrase's
    upsert_issues(engine.db, [make_issue(500, "librosa spectrogram", "audio", repo="new/one")])
    engine.index.refresh()
    after = engine.index.pool()
    assert after is not before
    assert asked <= set(after.bm25.kept.keys())
    assert set(after.phrase_rows.keys()) == set(before.phrase_rows.keys())
    memo = terms._MEMO[after]
    assert memo[("hard_rule", engine.settings.ranking.include_taken)][1] is not None
    stamps = [value[0] for key, value in memo.items() if key[0] == "learner_free"]
    assert stamps == [(terms.micros(NOW.replace(second=0, microsecond=0)), False)]


def test_a_shown_issue_is_shown_anew_after_a_change_that_keeps_its_text(engine):
    issues = {issue.url: issue for issue in pool(40)}
    upsert_issues(engine.db, issues.values())
    profile = Profile(skills="librosa audio spectrogram")
    first = issues[engine.match(profile, now=NOW)[0].issue.url]  # a match's issue has no body
    upsert_issues(engine.db, [dataclasses.replace(first, comments=first.comments + 7)])
    again = next(m.issue for m in engine.match(profile, now=NOW) if m.issue.url == first.url)
    assert again.comments == first.comments + 7


def test_the_shown_issues_kept_are_bounded_and_still_right(engine, monkeypatch):
    issues = {issue.url: issue for issue in pool(40)}
    upsert_issues(engine.db, issues.values())
    monkeypatch.setattr(ranking_pool, "SHOWN_KEPT", 7)
    results = engine.match_many(PROFILES, top_k=10, now=NOW)
    snapshot = engine.index.snapshot
    assert 0 < len(snapshot.shown) <= 7
    for matches in results.values():
        for match in matches:
            assert match.issue == dataclasses.replace(issues[match.issue.url], body="")


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


def bot_engine(db, settings, embedder, **kwargs):
    """An engine as the bot runs one: refreshes and vectors off the request path."""
    return MatchEngine(db, settings, embedder=embedder, embed_in_background=True, **kwargs)


def test_the_bot_waits_for_the_importers_vectors_and_encodes_none_itself(db, settings):
    bot_side = HashingEmbedder()
    engine = bot_engine(db, settings, bot_side)
    upsert_issues(db, pool(30))  # an import that has not embedded yet
    engine.warm_up()  # (at start nobody waits: warm-up may encode; here it does, once)
    encoded = bot_side.encoded
    fresh = [
        make_issue(900 + n, f"librosa onset detection {n}", repo=f"sound/x{n}") for n in range(5)
    ]
    upsert_issues(db, fresh)
    librosa = Profile(skills="librosa onset detection")
    engine.match(librosa, now=NOW)  # starts a refresh in the background
    engine.wait_for_refresh(30)
    assert len(engine.index.pending) == 5  # they wait: nobody stored their vectors yet
    waiting = engine.index.pool()  # hidden in place: the pool of every issue copies no vector
    assert waiting.vectors is engine.index.snapshot.vectors and len(waiting.hidden) == 5
    assert waiting.local is waiting.rows  # position = row: one array
    assert not {m.issue.url for m in engine.match(librosa, now=NOW)} & {i.url for i in fresh}
    embed_pending(db, HashingEmbedder())  # the importer embeds them, in its own process
    engine.wait_for_embedding(30)
    assert not engine.index.pending
    assert {m.issue.url for m in engine.match(librosa, now=NOW)} >= {i.url for i in fresh}
    assert bot_side.encoded - encoded == 1  # the learner's profile; no issue text


def test_the_request_that_notices_a_change_ranks_before_the_refresh_starts(
    db, settings, monkeypatch
):
    engine = bot_engine(db, settings, HashingEmbedder())
    upsert_issues(db, pool(20))
    engine.warm_up()
    upsert_issues(db, [make_issue(950, "librosa onset detection", repo="sound/y")])
    embed_pending(db, HashingEmbedder())  # as the importer does
    engine._checked_at = -float("inf")  # the change check is due
    order = []
    ranking, starting = matcher.engine._rank_batch, engine._start_background
    monkeypatch.setattr(
        matcher.engine, "_rank_batch", lambda *a: order.append("rank") or ranking(*a)
    )
    monkeypatch.setattr(
        engine, "_start_background", lambda index: order.append("refresh") or starting(index)
    )
    engine.match(Profile(skills="librosa onset detection"), now=NOW)
    assert order == ["rank", "refresh"]  # ranked on the index as it stood, then refreshed
    engine.wait_for_refresh(30)
    found = engine.match(Profile(skills="librosa onset detection"), now=NOW)
    assert "sound/y" in {m.issue.repo for m in found}


def test_texts_nobody_embeds_are_encoded_in_the_background_after_a_while(db, settings):
    engine = bot_engine(db, settings, HashingEmbedder(), embed_after_seconds=0.0)
    upsert_issues(db, pool(5))
    engine.warm_up()
    upsert_issues(db, pool(30, seed=9)[5:])  # a `sync --no-embed`: no vectors will come
    engine.match(Profile(skills="PyTorch"), now=NOW)
    engine.wait_for_embedding(30)
    assert not engine.index.pending
    assert len(engine.match(Profile(skills="PyTorch"), now=NOW, top_k=50)) > 20


def test_a_request_never_waits_for_a_refresh(db, settings, monkeypatch):
    engine = bot_engine(db, settings, HashingEmbedder())
    upsert_issues(db, pool(30))
    assert engine.index_status() == (0, None)
    engine.warm_up()
    size, refreshed_at = engine.index_status()
    assert size == 30 and refreshed_at is not None
    index = engine.index
    release, started = threading.Event(), threading.Event()
    refresh = index.refresh

    def slow_refresh(*args, **kwargs):
        started.set()
        release.wait(30)
        return refresh(*args, **kwargs)

    monkeypatch.setattr(index, "refresh", slow_refresh)
    new = make_issue(700, "librosa librosa onset", "librosa", repo="sound/y")
    upsert_issues(db, [new])
    embed_pending(db, HashingEmbedder())  # the importer embedded it
    librosa = Profile(skills="librosa onset")
    before = engine.match(librosa, now=NOW)  # answered from the index as it is
    assert started.wait(5) and new.url not in urls(before)
    release.set()
    engine.wait_for_embedding(30)  # the pass that was held up applies the change
    assert engine.match(librosa, now=NOW)[0].issue.url == new.url


class _LateClock(datetime):
    """A writer on another host whose clock runs 10 s behind."""

    @classmethod
    def now(cls, tz=None):
        return datetime.now(tz or UTC) - timedelta(seconds=10)


def test_a_row_written_with_a_clock_10_s_behind_reaches_a_warm_index(db, settings, monkeypatch):
    engine = MatchEngine(db, settings, embedder=HashingEmbedder())
    upsert_issues(db, pool(20))
    librosa = Profile(skills="librosa onset")
    engine.match(librosa, now=NOW)  # warm: the index holds everything written so far
    monkeypatch.setattr(issue_store, "datetime", _LateClock)
    late = make_issue(800, "librosa librosa onset", "librosa", repo="late/host")
    upsert_issues(db, [late])  # its stored_at is older than rows the index already read
    assert engine.match(librosa, now=NOW)[0].issue.url == late.url


def test_every_issue_write_advances_the_change_counter_and_nothing_else_does(db):
    issues = pool(6)
    marks = [change_mark(db)]
    upsert_issues(db, issues)  # six rows written
    marks.append(change_mark(db))
    upsert_issues(db, issues)  # nothing changed: nothing written
    marks.append(change_mark(db))
    upsert_issues(db, [dataclasses.replace(issues[0], comments=99)])
    marks.append(change_mark(db))
    mark_unlisted(db, [issues[1].url])
    marks.append(change_mark(db))
    save_welcome(db, issues[2].repo, _welcome(), cost=1)  # its repository's rows reread
    marks.append(change_mark(db))
    steps = np.diff(marks).tolist()
    assert steps[:4] == [6, 0, 1, 1] and steps[4] >= 1


def _welcome():
    from matcher.models import Welcome

    return Welcome(4, 3, 2.0, NOW, NOW)


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


def without_the_rule(engine):
    """An engine on the same store whose hard-label rule never finds a comparable issue."""
    ranking = engine.settings.ranking.model_copy(update={"hard_label_margin": -1e9})
    settings = engine.settings.model_copy(update={"ranking": ranking})
    return MatchEngine(engine.db, settings, embedder=HashingEmbedder())


def test_a_hard_issue_ranks_below_a_comparable_beginner_one(engine):
    issues = hard_and_beginner()
    upsert_issues(engine.db, issues)
    settings = engine.settings.ranking
    plain = {m.issue.url: m for m in without_the_rule(engine).match(HELM, now=NOW)}
    hard, easy = plain[issues[0].url], plain[issues[1].url]
    assert hard.score > easy.score  # without the rule the hard issue would come first

    def fit(m):
        return settings.dense * m.components["dense"] + settings.lexical * m.components["lexical"]

    assert fit(easy) >= fit(hard) - settings.hard_label_margin  # yet the two are comparable
    for matches in (engine.match(HELM, now=NOW), in_a_batch(engine, HELM, now=NOW)):
        assert urls(matches)[:2] == [issues[1].url, issues[0].url]
        assert matches[1].reasons[0] == "labelled 'complex': harder than a first issue"
        assert not any("harder" in r for r in matches[0].reasons)
        assert matches[1].score < matches[0].score < hard.score


def test_a_dismissed_beginner_issue_no_longer_holds_the_hard_one_down(engine):
    issues = hard_and_beginner()
    upsert_issues(engine.db, issues)
    said = Feedback(dismissed=frozenset({issues[1].url}))
    fast = engine.match(HELM, feedback=said, now=NOW)
    assert urls(fast)[0] == urls(in_a_batch(engine, HELM, feedback=said, now=NOW))[0]
    own = without_the_rule(engine).match(HELM, feedback=said, now=NOW)
    assert urls(fast)[0] == urls(own)[0] == issues[0].url
    assert fast[0].score == own[0].score  # its own score: nothing held it down


def test_task_fit_counts_and_says_the_kind_asked_for(engine):
    upsert_issues(engine.db, pool(seed=2))
    docs = Profile(id="docs", skills="technical writing, documentation, README", niche="NLP")
    fast = engine.match(docs, now=NOW, top_k=30)
    assert [m.reasons for m in fast] == [
        m.reasons for m in in_a_batch(engine, docs, now=NOW, top_k=30)
    ]
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
        in_a_batch(engine, learner, now=NOW, top_k=500),
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


@hypothesis_settings(max_examples=60, deadline=None)
@given(
    old=st.lists(st.text("abc/", max_size=4), unique=True, max_size=12),
    added=st.lists(st.text("abcd/", max_size=4), max_size=6),
    data=st.data(),
)
def test_the_url_order_merged_on_refresh_is_the_order_sorted_anew(old, added, data):
    from matcher.ranking.pool import UrlOrder

    added = [u for u in dict.fromkeys(added) if u not in old] if added else []
    kept = data.draw(st.lists(st.sampled_from(range(len(old))), unique=True)) if old else []
    keep = np.array(sorted(kept), dtype=np.int64)
    merged = UrlOrder.of(old).merged(keep, len(keep) == len(old), UrlOrder.of(added))
    urls = [old[r] for r in keep] + added
    fresh = UrlOrder.of(urls)
    assert merged.rows.tolist() == fresh.rows.tolist()
    assert merged.urls.tolist() == sorted(urls)
    assert merged.rank.tolist() == fresh.rank.tolist()
    rows = np.array(sorted(data.draw(st.sets(st.sampled_from(range(len(urls)))))) if urls else [])
    expected = np.argsort(np.argsort(np.array([urls[r] for r in rows], dtype=object)))
    assert merged.ranks(rows.astype(np.int64)).tolist() == expected.tolist()


def test_issues_appended_refresh_after_refresh_rank_as_a_fresh_build(db, settings):
    """Appends fill the vectors' spare rows in place; every refresh ranks as a build from
    scratch, and a snapshot already handed out never sees rows appended after it."""
    engine = MatchEngine(db, settings, embedder=HashingEmbedder())
    issues = pool(70, seed=3)
    upsert_issues(db, issues[:30])
    engine.match(PROFILES[0], now=NOW)
    for start in (30, 45, 60):
        before = engine.index.snapshot
        seen = before.vectors.copy()
        upsert_issues(db, issues[start : start + 15])
        after = engine.match_many(PROFILES, now=NOW, top_k=20)
        assert np.array_equal(before.vectors, seen)  # an older snapshot is left as it was
        fresh = MatchEngine(db, settings, embedder=HashingEmbedder())
        expected = fresh.match_many(PROFILES, now=NOW, top_k=20)
        for profile in PROFILES:
            same_lists(after[profile.id], expected[profile.id])
    snapshot = engine.index.snapshot
    assert snapshot.room is not None and snapshot.room.holds(snapshot.vectors)


def test_issues_added_a_few_at_a_time_wait_in_a_tail_of_counts_and_rank_as_a_fresh_build(
    db, settings
):
    engine = MatchEngine(db, settings, embedder=HashingEmbedder())
    issues = pool(100, seed=13)
    upsert_issues(db, issues[:80])
    engine.match(PROFILES[0], now=NOW)
    base = engine.index.snapshot.counts_t
    for start in (80, 84, 88):  # 4, 8, then 12 rows: past an eighth of 80, folded in
        upsert_issues(db, issues[start : start + 4])
        after = engine.match_many(PROFILES, now=NOW, top_k=20)
        snapshot = engine.index.snapshot
        fresh = MatchEngine(db, settings, embedder=HashingEmbedder())
        expected = fresh.match_many(PROFILES, now=NOW, top_k=20)
        for profile in PROFILES:
            same_lists(after[profile.id], expected[profile.id])
        if start < 88:
            assert snapshot.counts_t is base and snapshot.tail_t is not None
            assert snapshot.tail_t.shape[1] == start + 4 - 80
        else:
            assert snapshot.tail_t is None and snapshot.counts_t.shape[1] == 92
        rows = np.arange(len(snapshot))
        joined = ranking_pool.joined_counts(snapshot).toarray()
        for term in range(0, joined.shape[0], 7):
            assert snapshot.holders(term, rows).tolist() == (joined[term] > 0).tolist()


class Parts:
    """Snapshots of slices of one pool of issues, built with one lexicon, and their merges."""

    def __init__(self, count: int, seed: int) -> None:
        self.lexicon = Lexicon()
        self.issues = pool(count, seed=seed)
        self.vectors = EMBEDDER.encode([i.embedding_text() for i in self.issues])

    def __call__(self, low: int, high: int):
        return snapshot_of(self.issues[low:high], self.vectors[low:high], LABELS, self.lexicon)

    def merged(self, old, added, keep=None):
        """`old`'s rows `keep` (every row when None), then `added`'s."""
        keep = np.arange(len(old)) if keep is None else keep
        return ranking_pool.merge_snapshots(old, keep, added, len(self.lexicon.vocabulary))


def test_a_pool_over_a_tail_of_counts_weighs_as_one_over_every_row_joined():
    part = Parts(90, seed=14)
    snapshot = part(0, 80)
    for low in (80, 84):
        snapshot = part.merged(snapshot, part(low, low + 4))
    assert snapshot.tail_t is not None and snapshot.tail_t.shape[1] == 8
    joined_t = ranking_pool.joined_counts(snapshot)
    joined = dataclasses.replace(snapshot, counts_t=joined_t, tail_t=None)
    assert np.array_equal(joined.counts_t.toarray(), part(0, 88).counts_t.toarray())
    every, alone = build_pool(snapshot, np.arange(88)), build_pool(joined, np.arange(88))
    assert np.array_equal(every.bm25.whole().toarray(), alone.bm25.whole().toarray())
    focus = np.arange(3, 88, 4)  # a focus pool joins the counts of its rows
    assert np.array_equal(
        build_pool(snapshot, focus).bm25.whole().toarray(),
        build_pool(joined, focus).bm25.whole().toarray(),
    )
    # a merge that removes rows copies the kept counts once; the tail's kept rows stay a tail
    one_gone, every_other = np.delete(np.arange(88), 5), np.arange(0, 88, 2)
    for keep, added, tail in ((one_gone, part(88, 88), 8), (every_other, part(88, 90), None)):
        fewer = part.merged(snapshot, added, keep=keep)
        assert (fewer.tail_t is None) if tail is None else fewer.tail_t.shape[1] == tail
        kept_t = ranking_pool.joined_counts(fewer)
        expected = np.hstack([joined_t.toarray()[:, keep], added.counts_t.toarray()])
        assert np.array_equal(kept_t.toarray()[: expected.shape[0]], expected)
        rows = np.arange(len(fewer))
        alone = dataclasses.replace(fewer, counts_t=kept_t, tail_t=None)
        assert np.array_equal(
            build_pool(fewer, rows).bm25.whole().toarray(),
            build_pool(alone, rows).bm25.whole().toarray(),
        )


def test_two_merges_from_one_snapshot_do_not_share_rows():
    part = Parts(30, seed=5)
    issues, vectors, merged = part.issues, part.vectors, part.merged
    base = merged(part(0, 10), part(10, 20))  # a buffer with spare rows
    one = merged(base, part(20, 22))  # appended in place
    other = merged(base, part(22, 30))  # base is no longer the buffer's latest view: a copy
    assert np.array_equal(base.vectors, vectors[:20])
    assert np.array_equal(one.vectors, vectors[:22])
    assert np.array_equal(other.vectors, np.vstack([vectors[:20], vectors[22:30]]))
    assert one.room is base.room and other.room is not base.room
    # every other row-aligned column too: records, signals, hashes, embedded
    alone = part(0, 30)
    for name, values in row_columns(one).items():
        assert one.rooms[name] is base.rooms[name] and one.rooms[name].holds(values), name
        assert np.array_equal(values, row_columns(alone)[name][:22]), name
    for name, values in row_columns(other).items():
        assert other.rooms[name] is not base.rooms[name], name
        expected = row_columns(alone)[name]
        assert np.array_equal(values, np.concatenate([expected[:20], expected[22:30]])), name
    for name, values in row_columns(base).items():
        assert np.array_equal(values, row_columns(alone)[name][:20]), name
    assert [one.issue(r).url for r in range(22)] == [i.url for i in issues[:22]]


def test_a_merge_that_removes_rows_copies_its_columns_once():
    part = Parts(24, seed=6)
    base = part.merged(part(0, 10), part(10, 20))
    keep = np.array([0, 2, 3, 9, 15])
    fewer = part.merged(base, part(20, 24), keep=keep)
    rows = [*keep.tolist(), 20, 21, 22, 23]
    assert [fewer.issue(r).url for r in range(len(fewer))] == [part.issues[r].url for r in rows]
    for name, values in row_columns(fewer).items():
        assert fewer.rooms[name] is not base.rooms[name] and fewer.rooms[name].holds(values)
        assert np.array_equal(values, row_columns(part(0, 24))[name][rows]), name
    grown = part.merged(fewer, part(0, 2))
    assert all(grown.rooms[name] is fewer.rooms[name] for name in row_columns(grown))


# --- gone rows: closed and re-worded issues left in place until a merge drops them -----------


@hypothesis_settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), size=st.integers(10, 60), data=st.data())
def test_a_pool_with_gone_rows_ranks_as_one_without_them(seed, size, data):
    part = Parts(size, seed=seed)
    base = part(0, size)
    gone = np.array(sorted(data.draw(st.sets(st.integers(0, size - 1), max_size=size // 2))))
    gone = gone.astype(np.int64)
    kept = np.delete(np.arange(size), gone)
    marked = ranking_pool.with_gone(base, gone)
    fewer = part.merged(base, part(size, size), keep=kept)
    hidden, alone = build_pool(marked), build_pool(fewer)
    assert hidden.hidden.tolist() == gone.tolist() and hidden.vectors is base.vectors
    assert (
        marked.held_issues == len(fewer)
        and marked.rows_of([base.issue(r).url for r in gone]).max(initial=-1) == -1
    )
    weights = hidden.bm25.whole().toarray()[:, kept]
    assert np.array_equal(weights, alone.bm25.whole().toarray()[: weights.shape[0]])
    assert np.allclose(hidden.centre.mean, alone.centre.mean, rtol=0, atol=1e-15)
    assert np.allclose(hidden.centre.norms[kept], alone.centre.norms, rtol=0, atol=1e-6)
    texts = [p.query_text() for p in PROFILES]
    queries = [query_for(t, v) for t, v in zip(texts, EMBEDDER.encode(texts), strict=True)]
    lists = [
        rank_batch(
            one,
            queries,
            settings=load_settings().ranking,
            labels=LABELS,
            now=NOW,
            lexicon=part.lexicon,
            top_k=size,
        )
        for one in (hidden, alone)
    ]
    for with_gone, without in zip(*lists, strict=True):
        same_lists(with_gone, without)


def test_closed_and_reworded_issues_stay_as_gone_rows_until_a_merge_drops_them(db, settings):
    engine = MatchEngine(db, settings, embedder=HashingEmbedder())
    issues = pool(64, seed=21)
    upsert_issues(db, issues)
    engine.match(PROFILES[0], now=NOW)
    first = engine.index.snapshot
    reworded = dataclasses.replace(issues[3], title="Helm chart values", body="Kubernetes port")
    steps = [
        [dataclasses.replace(i, state="closed") for i in issues[:3]],
        [reworded],
        [issues[0]],  # reopened: a new row, its gone one left behind
        [dataclasses.replace(i, state="closed") for i in issues[10:15]],  # past GONE_SHARE
    ]
    for n, changed in enumerate(steps):
        previous = engine.index.snapshot
        upsert_issues(db, changed)
        after = engine.match_many(PROFILES, now=NOW, top_k=30)
        expected = MatchEngine(db, settings, embedder=HashingEmbedder()).match_many(
            PROFILES, now=NOW, top_k=30
        )
        for profile in PROFILES:
            same_lists(after[profile.id], expected[profile.id])
        snapshot = engine.index.snapshot
        held = sum(1 for i in issues if i.is_open) - 3 + (n >= 2) - 5 * (n >= 3)
        assert len(engine.index) == snapshot.held_issues == held
        if n == 0:  # closes alone: every part but the gone mask is the previous snapshot's
            for name in ("url_order", "repo_key", "niches", "counts_t", "tail_t"):
                assert getattr(snapshot, name) is getattr(previous, name), name
        if n < 3:  # appended in place, the rows of changed issues left gone
            assert snapshot.room is first.room and snapshot.gone is not None
            assert len(snapshot) == 64 + (n >= 1) + (n >= 2)
        else:  # nine gone rows of 66: the merge keeps the others
            assert snapshot.room is not first.room and snapshot.gone is None
            assert len(snapshot) == held
    snapshot = engine.index.snapshot
    assert snapshot.row_of(issues[0].url) is not None and snapshot.row_of(issues[1].url) is None
    row = snapshot.row_of(reworded.url)
    assert row is not None and snapshot.issue(row).title == reworded.title
