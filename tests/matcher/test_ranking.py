import dataclasses

import pytest

from matcher.catalog import load_catalog
from matcher.embedding import issue_vectors
from matcher.engine import MatchEngine
from matcher.errors import ProfileError
from matcher.lexical import tokenize
from matcher.models import Feedback, Profile
from matcher.ranking import diversify, reasons_for, task_type
from matcher.store.issues import upsert_issues
from tests.conftest import NOW, make_issue

POOL = [
    make_issue(
        1,
        "Add a librosa-based mel spectrogram example",
        "Show how to load audio with librosa.",
        repo="sound/kit",
    ),
    make_issue(
        2,
        "Fix Kubernetes Helm chart values",
        "The helm chart sets the wrong port.",
        repo="ops/deploy",
    ),
    make_issue(
        3, "Typo in the contributing guide", "Two typos in CONTRIBUTING.md.", repo="docs/site"
    ),
    make_issue(
        4,
        "React dashboard: dark mode toggle",
        "Add a toggle to the TypeScript UI.",
        repo="ui/board",
    ),
    make_issue(
        5, "Gymnasium wrapper for Atari frames", "Wrap the env to stack frames.", repo="rl/agents"
    ),
]


@pytest.fixture
def engine(db, settings, embedder):
    return MatchEngine(db, settings, embedder=embedder)


def ranked(engine, profile, issues, **kwargs):
    upsert_issues(engine.db, issues)
    return engine.match(profile, now=NOW, **kwargs)


def test_exact_tool_outranks_unrelated(engine):
    matches = ranked(engine, Profile(skills="librosa, Python", niche="audio"), POOL)
    assert matches[0].issue.number == 1
    assert any("librosa" in r for r in matches[0].reasons)


@pytest.mark.parametrize(
    "skills,niche,expected",
    [
        ("Kubernetes, Helm", "MLOps", 2),
        ("TypeScript, React", "dashboards", 4),
        ("Gymnasium, Python", "reinforcement learning", 5),
    ],
)
def test_each_learner_gets_their_own_best(engine, skills, niche, expected):
    assert ranked(engine, Profile(skills=skills, niche=niche), POOL)[0].issue.number == expected


def test_reasons_name_only_terms_that_are_in_the_issue(engine):
    matches = ranked(
        engine, Profile(skills="Python, librosa, Docker, Kubernetes, React", niche="audio"), POOL
    )
    by_url = {issue.url: issue for issue in POOL}  # a match's issue comes without its body
    for match in matches:
        issue_tokens = set(tokenize(by_url[match.issue.url].embedding_text()))
        for reason in match.reasons:
            if reason.startswith("matches: "):
                names = reason.removeprefix("matches: ").split(", ")
                # a phrase named whole has all its words in the issue; a half names its word first
                words = {w for n in names for w in tokenize(n.split(" of ")[0].lower())}
                assert names and words <= issue_tokens, (match.issue.title, names)


def test_diversity_keeps_one_repo_from_filling_the_list(engine):
    strong = [
        make_issue(
            n,
            f"PyTorch tokenizer bug number {n}",
            "The PyTorch tokenizer drops tokens.",
            repo="big/torchtext",
        )
        for n in range(1, 13)
    ]
    others = [
        make_issue(
            100 + n,
            f"Tokenizer docs for model {n}",
            "Explain the tokenizer API.",
            repo=f"other/repo{n}",
        )
        for n in range(12)
    ]
    matches = ranked(
        engine, Profile(skills="PyTorch, tokenizer", niche="NLP"), strong + others, top_k=10
    )
    assert len(matches) == 10
    from_big = sum(m.issue.repo == "big/torchtext" for m in matches)
    assert from_big <= engine.settings.ranking.max_per_repo
    assert matches[0].issue.repo == "big/torchtext"  # the best one still leads


def test_diversify_fills_from_overflow_when_repos_run_out():
    order = [0, 1, 2, 3]
    assert diversify(order, ["a", "a", "a", "b"], max_per_repo=1, top_k=3) == [0, 3, 1]


def test_taken_issues_are_left_out_unless_asked(engine, settings):
    free = make_issue(1, "Add librosa example", repo="sound/kit")
    taken = [
        make_issue(2, "Add librosa loader test", repo="sound/kit", assignees=("someone",)),
        make_issue(
            3,
            "Add librosa resample test",
            repo="sound/b",
            linked_prs=("https://github.com/x/y/pull/1",),
        ),
        make_issue(4, "Add librosa stft test", repo="sound/c", claimed=True),
        make_issue(5, "Add librosa closed", repo="sound/d", state="closed"),
    ]
    profile = Profile(skills="librosa")
    assert [m.issue.number for m in ranked(engine, profile, [free, *taken])] == [1]
    engine.settings.ranking.include_taken = True
    shown = engine.match(profile, now=NOW)
    assert {m.issue.number for m in shown} == {1, 2, 3, 4}
    assert shown[0].issue.number == 1
    assert any(r.startswith("taken:") for m in shown[1:] for r in m.reasons)


def test_true_beginner_label_beats_help_wanted(engine):
    a = make_issue(
        1, "Add unit tests for the CSV loader", repo="data/a", labels=("good first issue",)
    )
    b = make_issue(2, "Add unit tests for the CSV loader", repo="data/b", labels=("help wanted",))
    matches = ranked(engine, Profile(skills="pandas, pytest"), [b, a])
    assert [m.issue.number for m in matches] == [1, 2]


def test_ranking_is_deterministic(engine):
    profile = Profile(skills="Python", niche="machine learning")
    first = [(m.issue.url, m.score) for m in ranked(engine, profile, POOL)]
    assert first == [(m.issue.url, m.score) for m in engine.match(profile, now=NOW)]


def test_dismissed_never_returns_and_similar_sink(engine):
    audio = [
        make_issue(
            n,
            f"librosa audio feature {n}",
            "Compute audio features with librosa.",
            repo=f"sound/r{n}",
        )
        for n in range(11, 14)
    ]
    profile = Profile(skills="Python", niche="machine learning, audio, devops")
    before = {m.issue.url: m.score for m in ranked(engine, profile, audio + POOL[1:])}
    after = {
        m.issue.url: m.score
        for m in engine.match(
            profile, now=NOW, feedback=Feedback(dismissed=frozenset({audio[0].url}))
        )
    }
    assert audio[0].url not in after
    for similar in audio[1:]:
        assert after[similar.url] < before[similar.url] - 0.05
    unrelated = POOL[3].url  # the React dashboard issue
    assert after[unrelated] > before[unrelated] - 0.05


def test_interest_lifts_similar_issues(engine):
    profile = Profile(skills="Python", niche="open source")
    extra = make_issue(
        9, "Kubernetes operator for model serving", "Deploy with Helm.", repo="ops/k"
    )
    before = {m.issue.url: m.score for m in ranked(engine, profile, POOL + [extra])}
    after = {
        m.issue.url: m.score
        for m in engine.match(profile, now=NOW, feedback=Feedback(liked=frozenset({POOL[1].url})))
    }
    assert after[extra.url] > before[extra.url] + 0.05


def test_empty_profile_is_rejected(engine):
    with pytest.raises(ProfileError, match="empty"):
        ranked(engine, Profile(skills="  ", niche=""), POOL)


def test_task_types():
    assert task_type(make_issue(1, "Fix typo in README", labels=())) == "docs task"
    assert task_type(make_issue(1, "Whatever", labels=("tests",))) == "tests task"
    assert task_type(make_issue(1, "Segfault when loading", labels=("bug",))) == "bug fix"


def test_match_many_embeds_the_pool_once(db, settings, embedder):
    upsert_issues(db, POOL)
    engine = MatchEngine(db, settings, embedder=embedder)
    profiles = [Profile(id=str(n), skills=s) for n, s in enumerate(["librosa", "React", "Helm"])]
    results = engine.match_many(profiles, now=NOW)
    assert set(results) == {"0", "1", "2"}
    assert embedder.encoded == len(POOL) + 3
    issue_vectors(db, embedder, POOL)
    assert embedder.encoded == len(POOL) + 3


def test_labels_catalogue_drives_label_strength():
    labels = load_catalog().labels
    issue = make_issue(1, "x", labels=("Difficulty: easy",))
    assert labels.beginner_strength(dataclasses.astuple(issue)[5]) > 0.5


def test_empty_pool_ranks_to_nothing(engine):
    assert engine.match(Profile(skills="PyTorch"), now=NOW) == []
    assert engine.match_many(
        [Profile(id="a", skills="x"), Profile(id="b", skills="y")], now=NOW
    ) == {"a": [], "b": []}


def test_pool_without_any_word_still_ranks(engine):
    matches = ranked(
        engine, Profile(skills="PyTorch"), [make_issue(1, "🚀🚀", repo="a/b", labels=())]
    )
    assert [m.issue.number for m in matches] == [1]


@pytest.mark.parametrize("skills", ["🙂🙂", "!!! ---", "   "])
def test_profile_without_words_is_rejected(engine, skills):
    with pytest.raises(ProfileError, match="is empty"):
        engine.match(Profile(skills=skills), now=NOW)


def test_a_c_repository_is_not_said_to_be_in_a_language_the_learner_named(engine):
    """Issue 12: a learner who said C++ was told "written in C, which you know"."""
    issues = [
        make_issue(1, "Speed up the C tokenizer", "Rewrite the hot loop.", language="C"),
        make_issue(2, "Speed up the C++ kernel", "Rewrite the hot loop.", language="C++"),
    ]
    profile = Profile(skills="C++ performance", niche="tokenizers", languages="C++")
    reasons = {m.issue.language: m.reasons for m in ranked(engine, profile, issues)}
    assert "written in C (c++ family), which you know" in reasons["C"]
    assert "written in C, which you know" not in reasons["C"]
    assert "written in C++, which you know" in reasons["C++"]


def test_reasons_warn_of_a_hard_label_first_and_name_the_kind_asked_for():
    labels = load_catalog().labels
    hard = make_issue(7, "Fix the docs build", labels=("complex", "documentation"))
    reasons = reasons_for(hard, ["docs"], 0.5, 0.0, labels, NOW, frozenset({"docs task"}))
    assert reasons[0] == "labelled 'complex': harder than a first issue"
    assert "a docs task, the kind of work you asked for" in reasons
    assert "docs task" not in reasons
    easy = make_issue(8, "Fix the docs build", labels=("good first issue", "documentation"))
    plain = reasons_for(easy, [], 0.1, 0.0, labels, NOW)
    assert not any("harder" in r for r in plain) and "docs task" in plain
