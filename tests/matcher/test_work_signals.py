"""An issue's own work (its language, its niches in words) and what a learner's niche asks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from matcher.lexical import name_matches, profile_phrases, work_language
from matcher.models import Issue, Profile
from matcher.ranking import TASK_TYPES, intent_fits
from matcher.signals import kinds_asked


def _issue(**kw) -> Issue:
    base = {"url": "https://github.com/o/r/issues/1", "repo": "o/r", "number": 1, "title": "t"}
    return Issue(**{"body": "", "labels": (), **base, **kw})


@pytest.mark.parametrize(
    ("language", "text", "labels", "expected"),
    [
        # a front end inside a Python repository: the work is JavaScript/TypeScript
        ("Python", "Fix the layout in ui/App.tsx and the styles in main.css", (), "javascript"),
        # one passing mention is not the work
        ("Python", "The docs page mentions React once.", (), "python"),
        # a label says it outright
        ("Python", "Speed up the kernel.", ("cuda", "c++"), "c++"),
        ("Python", "Port the loader to src/lib.rs and expose it with pyo3.", (), "rust"),
        # TypeScript and JavaScript are one family: no switch
        ("TypeScript", "Restyle the React component in Button.jsx and theme.css", (), "typescript"),
        # the repository's own language named again changes nothing
        ("C++", "Add a CUDA kernel in ops/softmax.cu and a C++ test", (), "c++"),
        # a repository with no known language and no cue stays unknown
        (None, "Improve the wording of the README.", (), None),
    ],
)
def test_work_language(language, text, labels, expected):
    assert work_language(language, text, labels) == expected


def test_issue_text_names_its_niches_in_words():
    issue = _issue(niches=("vision", "llm-apps"))
    text = issue.embedding_text()
    assert "computer vision, LLM apps" in text
    assert "computer vision" not in _issue().embedding_text()


def test_snapshot_issue_without_niches_takes_the_catalogues():
    from matcher.snapshot import issue_from_record

    record = {
        "url": "https://github.com/albumentations-team/albumentations/issues/7",
        "repo": "albumentations-team/albumentations",
        "number": 7,
        "title": "Add a transform",
        "body": "",
        "labels": [],
    }
    assert "vision" in issue_from_record(record).niches
    assert issue_from_record({**record, "niches": ["audio"]}).niches == ("audio",)


@pytest.mark.parametrize(
    ("niche", "intent"),
    [
        ("documentation of machine learning libraries", {"docs task"}),
        ("writing tests for ML tools", {"tests task"}),
        ("computer vision", set()),
    ],
)
def test_a_niche_that_names_a_kind_of_work_is_an_intent(niche, intent):
    assert kinds_asked(Profile(skills="python", niche=niche).niche, TASK_TYPES) == intent


def test_intent_fits_marks_only_the_named_kinds():
    fits = intent_fits(["docs task", "bug fix", None, "docs task"], frozenset({"docs task"}))
    np.testing.assert_array_equal(fits, [1.0, 0.0, 0.0, 1.0])
    assert not intent_fits(["docs task"], frozenset()).any()


def test_profile_phrases_keep_the_learners_spelling():
    text = "Python, PyTorch and OpenCV; image augmentation. computer vision"
    assert profile_phrases(text) == (
        "Python",
        "PyTorch",
        "OpenCV",
        "image augmentation",
        "computer vision",
    )


@pytest.mark.parametrize(
    ("matched", "named"),
    [
        (["computer", "vision"], ["computer vision"]),  # the whole phrase, never its halves
        (["vision"], ['"vision" of "computer vision"']),  # a half says which phrase it is from
        (["pytorch", "image"], ["PyTorch", '"image" of "image augmentation"']),
        (["cv", "detection"], ["cv", "detection"]),  # implied terms (initials, synonyms)
    ],
)
def test_matches_are_named_as_the_learner_wrote_them(matched, named):
    phrases = profile_phrases("PyTorch, image augmentation, computer vision")
    assert name_matches(matched, phrases) == named


def test_reasons_never_name_half_a_phrase(tmp_path):
    from matcher.engine import MatchEngine
    from matcher.settings import load_settings
    from matcher.store import Database
    from matcher.store.issues import upsert_issues
    from tests.fakes.embedder import HashingEmbedder

    db = Database(f"sqlite:///{tmp_path / 's.sqlite'}")
    issue = _issue(title="Computer vision: add a detection example", labels=("good first issue",))
    upsert_issues(db, [issue])
    engine = MatchEngine(db, load_settings(), embedder=HashingEmbedder())
    [match] = engine.match(Profile(skills="python", niche="computer vision"), top_k=1)
    matched = next(r for r in match.reasons if r.startswith("matches: "))
    assert "computer vision" in matched
    assert "matches: computer," not in matched and ", vision" not in matched


# --- the shortcuts that build an index fast give exactly what the plain scans give ----------
CUE_WORDS = [
    *("React", ".tsx", "vue", "front-end", "Node.JS", "next.js", "main.css", "npm", "vite"),
    *("ops/a.cu", "x.CPP", "C++", "CUDA kernels", "cmake", "libtorch", "lib.rs", "Rust", "crates"),
    *("PyO3", "main.go", "Golang", "go", "Java", ".java", "gradle", "JVM", "a.R", ".r", "x.r.y"),
    *("CRAN", "Rcpp", "tidyverse", "Julia", "m.jl", "ruſt", "İ", "ı", "é", "K", "jul\u0130a"),
    *(" ", "\n", "-", ".", "/", "_", "(", "a", "the", "2", "#"),
]


def _plain_work_language(language, text, labels):
    """work_language as a scan of every cue over the whole text (the rule, without shortcuts)."""
    from matcher.lexical import _WORK_CUES, issue_language

    own, label_text, hits = issue_language(language), " ".join(labels), {}
    for name, cue in _WORK_CUES.items():
        in_labels, count = bool(cue.search(label_text)), len(cue.findall(text))
        same = name == own or {name, own} == {"javascript", "typescript"}
        if not same and (in_labels or count >= 2):
            hits[name] = count + (10 if in_labels else 0)
    return max(hits, key=lambda name: hits[name]) if hits else own


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    words=st.lists(st.sampled_from(CUE_WORDS), max_size=30),
    label_words=st.lists(st.sampled_from(CUE_WORDS), max_size=4),
    language=st.sampled_from([None, "Python", "TypeScript", "C++", "Rust", "Go", "R", "HTML"]),
)
def test_work_language_shortcuts_agree_with_the_plain_scan(words, label_words, language):
    from matcher.lexical import count_terms_and_cues, issue_work_language

    body = "".join(words)
    issue = _issue(title="Title", body=body, labels=tuple(label_words), language=language)
    expected = _plain_work_language(language, f"Title\n{body}", issue.labels)
    _, cues = count_terms_and_cues([issue.embedding_text()], {})
    assert work_language(language, f"Title\n{body}", issue.labels) == expected
    assert issue_work_language(issue, int(cues[0])) == expected


def _plain_cue_counts(text):
    from matcher.lexical import _WORK_CUES

    return tuple(len(cue.findall(text)) for cue in _WORK_CUES.values())


def _any_cue_text():
    """Text holding matches of the cues themselves: a cue added without its trigger, or a
    trigger that misses a spelling the cue takes, makes the shortcuts below disagree."""
    from matcher.lexical import _WORK_CUES

    matches = st.one_of(*(st.from_regex(cue, fullmatch=True) for cue in _WORK_CUES.values()))
    glue = st.sampled_from([" ", "\n", "see ", "(", "/", "x", "."])
    return st.lists(st.tuples(glue, matches), min_size=1, max_size=6).map(
        lambda parts: "".join(g + m for g, m in parts)
    )


@hypothesis_settings(max_examples=500, deadline=None)
@given(body=_any_cue_text())
def test_the_cue_shortcuts_count_every_spelling_the_cues_match(body):
    from matcher.lexical import count_terms_and_cues, issue_work_cue_counts, work_cue_counts

    issue = _issue(title="Title", body=body)
    expected = _plain_cue_counts(f"Title\n{body}")
    _, cues = count_terms_and_cues([issue.embedding_text()], {})
    assert work_cue_counts(f"Title\n{body}") == expected
    assert issue_work_cue_counts(issue, int(cues[0])) == expected


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(
        st.sampled_from(
            [
                *("Traceback (most recent call last)", "\n  at a.B(", "at x(", "```", "src/a.py"),
                *("./b/c.md", "x.h", "a//b.py", "é.py", "_x.rs", "-y.go", ".", "/", " ", "\n"),
                *("\u0663", "file", ".json", ".jsx", "a.b.c", "(", "py", "x" * 40),
            ]
        ),
        max_size=25,
    )
)
def test_difficulty_scans_agree_with_the_plain_patterns(parts):
    import re

    from matcher import signals

    text = "".join(parts)
    traceback = re.compile(r"Traceback \(most recent call last\)|^\s*at [\w.$]+\(", re.M)
    assert signals.has_traceback(text) == bool(traceback.search(text))
    assert signals.names_a_file(text) == bool(signals._FILE_PATH.search(text))
