"""`db prune`: cached vectors and text facts no stored issue's text uses go; the rest stays."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select
from typer.testing import CliRunner

from matcher.cli import app
from matcher.models import text_hash
from matcher.signals import TEXT_FACTS_VERSION, TextFacts, text_facts_key
from matcher.store.issues import get_embeddings, prune_embeddings, put_embeddings, upsert_issues
from matcher.store.text_facts import (
    TextFactsRow,
    get_text_facts,
    prune_text_facts,
    put_text_facts,
)
from tests.conftest import make_issue

FACTS = TextFacts(kind=None, marks=0, cue_counts=(0,) * 7)


def _vector(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(4, dtype=np.float32)


def _cache_everything(db, issues, model="m@r"):
    put_embeddings(db, model, {text_hash(i.embedding_text()): _vector(i.number) for i in issues})
    put_text_facts(db, {text_facts_key(i): FACTS for i in issues})


def _facts_keys(db) -> set[tuple[str, int]]:
    table = TextFactsRow.__table__
    with db.session() as session:
        return set(session.execute(select(table.c.key, table.c.version)).all())


def test_prune_drops_the_caches_of_old_texts_and_keeps_every_stored_issues(db):
    first, second = make_issue(1, "Add a tokenizer test"), make_issue(2, "Fix the docs typo")
    closed = make_issue(3, "Closed but kept", state="closed")
    upsert_issues(db, [first, second, closed])
    _cache_everything(db, [first, second, closed])
    put_embeddings(db, "another@model", {text_hash(first.embedding_text()): _vector(9)})
    edited = make_issue(2, "Fix the docs typo in the README")  # issue 2's text changed
    upsert_issues(db, [edited])
    _cache_everything(db, [edited])
    put_text_facts(db, {"a-key-no-text-has": FACTS})

    assert prune_embeddings(db) == 1
    assert prune_text_facts(db) == 2

    kept = [first, edited, closed]
    hashes = [text_hash(i.embedding_text()) for i in kept]
    assert set(get_embeddings(db, "m@r", [*hashes, text_hash(second.embedding_text())])) == set(
        hashes
    )
    assert set(get_embeddings(db, "another@model", hashes)) == {hashes[0]}
    keys = {text_facts_key(i) for i in kept}
    assert set(get_text_facts(db, [*keys, text_facts_key(second)], lambda _: True)) == keys
    assert prune_embeddings(db) == 0 and prune_text_facts(db) == 0


def test_prune_drops_facts_of_another_version(db):
    issue = make_issue(1, "Add a tokenizer test")
    upsert_issues(db, [issue])
    _cache_everything(db, [issue])
    with db.session() as session:
        row = {"key": text_facts_key(issue), "kind": None, "marks": 0, "cue_counts": "0"}
        session.execute(
            TextFactsRow.__table__.insert(), [{**row, "version": TEXT_FACTS_VERSION - 1}]
        )

    assert prune_text_facts(db) == 1
    assert _facts_keys(db) == {(text_facts_key(issue), TEXT_FACTS_VERSION)}


def test_prune_on_an_empty_store_removes_nothing(db):
    assert prune_embeddings(db) == 0 and prune_text_facts(db) == 0


def test_db_prune_command_says_what_it_removed(db, store_url):
    issue = make_issue(1, "Add a tokenizer test")
    upsert_issues(db, [issue])
    _cache_everything(db, [issue])
    put_embeddings(db, "m@r", {text_hash("an old text"): _vector(5)})

    result = CliRunner().invoke(app, ["--db", store_url, "db", "prune"])

    assert result.exit_code == 0, result.output
    assert "pruned 1 cached vectors and 0 text facts" in result.output
    assert set(get_embeddings(db, "m@r", [text_hash(issue.embedding_text())]))
