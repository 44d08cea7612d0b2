"""Text facts kept in the store (table text_facts): a warm-up that reads them builds the snapshot
a warm-up that scans every text builds, and no stored row, however bad, changes or stops it."""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import fields

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from matcher.catalog import load_catalog, normalize_label
from matcher.lexical import WORK_LANGUAGES
from matcher.models import Issue, text_hash
from matcher.ranking import task_type
from matcher.ranking.index import RankingIndex
from matcher.ranking.pool import (
    Lexicon,
    build_snapshot,
    issue_signals,
    sound_text_facts,
    text_facts,
)
from matcher.ranking.terms import KINDS
from matcher.signals import TEXT_FACTS_VERSION, TextFacts, text_facts_key
from matcher.snapshot import demo_snapshot_path, read_snapshot
from matcher.store.issues import upsert_issues
from matcher.store.text_facts import TextFactsRow, _decoded, get_text_facts, put_text_facts
from tests.conftest import NOW
from tests.matcher.test_work_signals import _plain_work_language

CATALOG = load_catalog()
LABELS = CATALOG.labels
MODEL = "no-model"  # no vectors: the facts do not depend on them

# pieces of titles and bodies that move the signals: kinds of work, umbrella words, tracebacks,
# code blocks, file names, each language's work cues, letters re.IGNORECASE folds
PIECES = [
    *("Fix typo in docs", "Add unit tests", "[RFC] roadmap", "Tracking issue:", "speed up "),
    *("Traceback (most recent call last)", "\n  at a.B(", "```", "src/model.py", "x.tsx"),
    *("React", "front-end", "npm", "CUDA kernels", "C++", "cmake", "lib.rs", "cargo", "golang"),
    *("main.go", "java", "gradle", "cran", "Julia", "m.jl", "ruſt", "İ", " ", "\n", "."),
    *("a" * 1499, "b" * 700),  # long bodies (1500 characters and more), bodies past EMBEDDED_BODY
]
TEXTS = st.lists(st.sampled_from(PIECES), max_size=12).map("".join)
LANGUAGES = st.sampled_from([None, "Python", "TypeScript", "C++", "Rust", "Go", "Java", "HTML"])
LABEL_SETS = st.sampled_from(
    [(), ("good first issue",), ("documentation",), ("hard",), ("rust", "help wanted")]
)


@st.composite
def issues(draw) -> list[Issue]:
    count = draw(st.integers(1, 6))
    return [
        Issue(
            url=f"https://github.com/o/r/issues/{n}",
            repo="o/r",
            number=n,
            title=draw(TEXTS),
            body=draw(TEXTS),
            labels=draw(LABEL_SETS),
            language=draw(LANGUAGES),
            updated_at=NOW,
        )
        for n in range(count)
    ]


def _stored_and_read(facts: TextFacts) -> TextFacts | None:
    """TextFacts after a trip through the store's columns (as put_text_facts writes them)."""
    return _decoded(facts.kind, facts.marks, " ".join(map(str, facts.cue_counts)))


def same_signals(one, other) -> None:
    for f in fields(one):
        left, right = getattr(one, f.name), getattr(other, f.name)
        assert left.dtype == right.dtype and np.array_equal(left, right), f.name


def _issue(title: str, body: str, language: str | None = "Python") -> Issue:
    return Issue(url="u", repo="o/r", number=1, title=title, body=body, language=language)


@hypothesis_settings(max_examples=200, deadline=None)
@given(issues())
@example([_issue("Docs", "a" * 1499 + ".")])  # long from 1500 characters on
@example([_issue("Tracking issue: speed up", "b" * 2100 + "React, npm and vite")])  # cues past
@example([_issue("x.tsx", "React", language="TypeScript"), _issue("İ", "ruſt cargo lib.rs")])
def test_signals_from_stored_facts_are_the_signals_of_the_texts(found):
    """Facts found without the tokenizer's cues (as a warm-up stores them) and read back give
    the signals a snapshot computes with the cues."""
    from matcher.lexical import count_terms_and_cues

    _, cues = count_terms_and_cues([i.embedding_text() for i in found], {})
    read_back = [_stored_and_read(text_facts(issue)) for issue in found]
    assert all(f is not None and sound_text_facts(f) for f in read_back)
    lexicon, other = Lexicon(), Lexicon()
    same_signals(
        issue_signals(found, LABELS, lexicon, cues),
        issue_signals(found, LABELS, other, facts=read_back),  # type: ignore[arg-type]
    )
    assert lexicon.languages == other.languages
    # and both are the rules written out plainly, per issue
    names = {number: name for name, number in other.languages.items()}
    signals = issue_signals(found, LABELS, other, facts=read_back)  # type: ignore[arg-type]
    for row, issue in enumerate(found):
        plain = _plain_work_language(issue.language, f"{issue.title}\n{issue.body}", issue.labels)
        assert names.get(int(signals.language[row])) == plain
        assert signals.difficulty[row] == _plain_difficulty(issue, task_type(issue))
        assert KINDS[signals.kind[row]] == task_type(issue)


def _plain_difficulty(issue: Issue, kind: str | None) -> float:
    """signals.difficulty as it read before text_marks: every scan on the text itself."""
    from matcher.signals import _LONG_BODY, _UMBRELLA, has_traceback, names_a_file

    text = issue.body or ""
    estimate = 0.5
    estimate -= 0.35 * LABELS.beginner_strength(issue.labels)
    if any(normalize_label(name) in LABELS.hard for name in issue.labels if name):
        estimate += 0.35
    if kind in {"docs task", "tests task", "example", "typing"}:
        estimate -= 0.1
    elif kind in {"feature", "performance"}:
        estimate += 0.05
    if _UMBRELLA.search(issue.title) or any(_UMBRELLA.search(x) for x in issue.labels):
        estimate += 0.15
    if len(text) >= _LONG_BODY:
        estimate += 0.05
    if has_traceback(text) or text.count("```") >= 4:
        estimate += 0.05
    if names_a_file(text):
        estimate -= 0.05
    return float(min(max(estimate, 0.0), 1.0))


@hypothesis_settings(max_examples=100, deadline=None)
@given(issues(), st.data())
def test_the_key_changes_with_the_title_or_the_body_alone(found, data):
    issue = found[0]
    moved = data.draw(st.integers(0, len(issue.title)))  # the same text, split elsewhere
    other = dataclasses.replace(
        issue, title=issue.title[:moved], body=issue.title[moved:] + issue.body
    )
    if (other.title, other.body) != (issue.title, issue.body):
        assert text_facts_key(other) != text_facts_key(issue)
    assert text_facts_key(dataclasses.replace(issue, labels=("x",), language="Rust")) == (
        text_facts_key(issue)
    )


def demo_issues() -> list[Issue]:
    return read_snapshot(demo_snapshot_path()).issues


def snapshot_of_store(db):
    index = RankingIndex(db, MODEL, LABELS, CATALOG.niches_of)
    index.refresh()
    return index.snapshot, index.lexicon


def same_snapshots(one, other) -> None:
    (left, left_lexicon), (right, right_lexicon) = one, other
    assert list(left.records.urls) == list(right.records.urls)
    assert left_lexicon == right_lexicon
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(left.counts_t, name), getattr(right.counts_t, name)), name
    same_signals(left.signals, right.signals)


def stored_rows(db) -> list:
    with db.session() as session:
        return list(session.scalars(select(TextFactsRow)))


def test_a_warm_up_stores_the_facts_and_the_next_builds_the_same_snapshot_from_them(db):
    upsert_issues(db, demo_issues())
    scanned = snapshot_of_store(db)
    rows = stored_rows(db)
    assert len(rows) == len({text_facts_key(i) for i in demo_issues() if i.is_open})
    assert {row.version for row in rows} == {TEXT_FACTS_VERSION}
    read = snapshot_of_store(db)
    same_snapshots(scanned, read)
    # the facts were read, not found again: changed facts in the store show in the signals
    with db.session() as session:
        session.execute(update(TextFactsRow).values(marks=0, cue_counts="0 0 0 0 0 0 0"))
    assert not np.array_equal(
        snapshot_of_store(db)[0].signals.difficulty, read[0].signals.difficulty
    )


def test_facts_of_another_version_are_never_read(db):
    upsert_issues(db, demo_issues())
    scanned = snapshot_of_store(db)
    with db.session() as session:  # as a future version would write them
        session.execute(
            update(TextFactsRow).values(version=TEXT_FACTS_VERSION + 1, marks=0, kind="example")
        )
    same_snapshots(scanned, snapshot_of_store(db))


BAD_VALUES = [
    {"marks": 99},
    {"marks": -1},
    {"kind": "not a kind"},
    {"cue_counts": "1 2"},
    {"cue_counts": "a b c d e f g"},
    {"cue_counts": "-1 0 0 0 0 0 0"},
    {"cue_counts": ""},
]


@pytest.mark.parametrize("bad", BAD_VALUES)
def test_bad_stored_rows_are_scanned_again_with_one_log_line(db, caplog, bad):
    upsert_issues(db, demo_issues())
    scanned = snapshot_of_store(db)
    with db.session() as session:
        session.execute(update(TextFactsRow).values(**bad))
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="matcher.store.text_facts"):
        same_snapshots(scanned, snapshot_of_store(db))
    assert len([r for r in caplog.records if r.name == "matcher.store.text_facts"]) == 1
    # and mended: the next warm-up reads them without a word
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="matcher.store.text_facts"):
        same_snapshots(scanned, snapshot_of_store(db))
    assert not caplog.records


def test_rows_of_the_wrong_type_are_scanned_again(db):
    """SQLite keeps whatever a column is given: a text where a number belongs."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL refuses values of another type")
    upsert_issues(db, demo_issues())
    scanned = snapshot_of_store(db)
    with db.session() as session:
        session.execute(update(TextFactsRow).values(marks="many", cue_counts=b"\xff\x00"))
    same_snapshots(scanned, snapshot_of_store(db))


def test_a_store_that_takes_no_facts_still_warms_up(db, monkeypatch, caplog):
    from matcher.errors import StoreError
    from matcher.ranking import index

    def refuse(*_):
        raise StoreError("cannot use the store: read-only")

    upsert_issues(db, demo_issues())
    monkeypatch.setattr(index, "put_text_facts", refuse)
    with caplog.at_level(logging.WARNING, logger="matcher.ranking.index"):
        snapshot, _ = snapshot_of_store(db)
    assert len(snapshot) > 0 and not stored_rows(db)
    assert len([r for r in caplog.records if "text facts not stored" in r.message]) == 1


def test_a_refresh_stores_the_facts_of_new_texts_only(db):
    found = demo_issues()
    upsert_issues(db, found[:10])
    index = RankingIndex(db, MODEL, LABELS, CATALOG.niches_of)
    index.refresh()
    with db.session() as session:
        session.execute(delete(TextFactsRow))
    upsert_issues(db, found[10:12])
    index.refresh()
    keys = {text_facts_key(i) for i in found[10:12] if i.is_open}
    assert {row.key for row in stored_rows(db)} == keys


def test_put_and_get_round_trip(db):
    facts = {
        "k1": TextFacts(kind=None, marks=0, cue_counts=(0,) * len(WORK_LANGUAGES)),
        "k2": TextFacts(kind="docs task", marks=9, cue_counts=(3, 0, 0, 2, 0, 0, 1)),
    }
    put_text_facts(db, facts)
    put_text_facts(db, facts)  # again: replaced, not doubled
    assert get_text_facts(db, ["k1", "k2", "k3"], sound_text_facts) == facts
    assert len(stored_rows(db)) == 2


def test_build_snapshot_takes_the_facts_it_is_given():
    found = [dataclasses.replace(i, labels=()) for i in demo_issues()[:20]]  # the title's kind
    facts = [dataclasses.replace(text_facts(i), kind="example", marks=0) for i in found]
    hashes = [text_hash(i.embedding_text()) for i in found]
    built = build_snapshot(found, hashes, {}, LABELS, lambda _: (), Lexicon(), facts=facts)
    plain = build_snapshot(found, hashes, {}, LABELS, lambda _: (), Lexicon())
    assert not np.array_equal(built.signals.kind, plain.signals.kind)
    assert not np.array_equal(built.signals.difficulty, plain.signals.difficulty)
