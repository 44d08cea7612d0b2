"""The demo's shipped vectors: a first `match` or `import` of the demo stores them instead of
encoding its texts, and they are what the default model gives for the texts `import` stores."""

from __future__ import annotations

import numpy as np

from matcher.catalog import load_catalog
from matcher.demo_vectors import shipped_vectors, store_shipped_vectors, write_demo_vectors
from matcher.embedding import DEFAULT_MODEL, embedding_key, encode_and_store, unembedded_texts
from matcher.engine import MatchEngine
from matcher.models import Profile, text_hash
from matcher.snapshot import demo_snapshot_path, import_snapshot
from matcher.store.issues import get_embeddings, load_issues

REBUILD = "the demo's texts changed: run `python scripts/build_demo_vectors.py` and commit"


def demo_texts(db) -> dict[str, str]:
    import_snapshot(db, demo_snapshot_path(), load_catalog().labels)
    return {text_hash(i.embedding_text()): i.embedding_text() for i in load_issues(db)}


def test_the_shipped_vectors_cover_every_demo_text_import_stores(db):
    key, vectors = shipped_vectors()
    assert key == embedding_key(DEFAULT_MODEL)
    texts = demo_texts(db)
    assert len(texts) == 220
    assert set(texts) <= set(vectors), REBUILD


def test_the_shipped_vectors_are_what_the_default_model_gives(db, minilm):
    _, vectors = shipped_vectors()
    texts = demo_texts(db)
    sample = sorted(texts)[::20]
    fresh = minilm.encode([texts[h] for h in sample])
    shipped = np.stack([vectors[h] for h in sample])
    # the int8 model's arithmetic may differ a little between CPUs; a stale file would not
    assert (np.sum(fresh * shipped, axis=1) > 0.999).all(), REBUILD


def test_the_demo_is_stored_without_encoding_a_text_and_a_new_text_is_encoded(db, embedder):
    texts = demo_texts(db)
    texts[text_hash("a text no demo issue has")] = "a text no demo issue has"
    done = encode_and_store(db, embedder, texts)
    assert embedder.encoded == 1
    assert set(done) == set(texts)
    assert set(get_embeddings(db, embedder.name, texts)) == set(texts)


def test_a_match_counts_only_the_texts_it_really_encoded(db, embedder, settings):
    demo_texts(db)
    engine = MatchEngine(db, settings, embedder)
    results = engine.match_many([Profile(skills="python, pytorch", niche="computer vision")])
    assert len(next(iter(results.values()))) > 0
    assert engine.encoded_last == 0  # the 220 demo texts came from the shipped file


def test_unembedded_texts_stores_the_shipped_vectors_so_the_model_is_not_needed(db):
    demo_texts(db)
    assert unembedded_texts(db, embedding_key(DEFAULT_MODEL)) == {}
    assert len(unembedded_texts(db, "another-model@sentence-transformers")) == 220


def test_another_model_takes_nothing_from_the_file(db):
    texts = demo_texts(db)
    assert store_shipped_vectors(db, "another-model@sentence-transformers", texts) == {}
    assert get_embeddings(db, "another-model@sentence-transformers", texts) == {}


def test_a_missing_or_broken_file_is_no_file(tmp_path):
    assert shipped_vectors.__wrapped__(tmp_path / "absent.npz") == ("", {})
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not a zip")
    assert shipped_vectors.__wrapped__(broken) == ("", {})
    written = tmp_path / "written.npz"
    write_demo_vectors(written, "m@r", {"h1": np.ones(3), "h2": np.zeros(3)})
    key, vectors = shipped_vectors.__wrapped__(written)
    assert key == "m@r" and sorted(vectors) == ["h1", "h2"]
    assert vectors["h1"].dtype == np.float32 and vectors["h1"].tolist() == [1.0, 1.0, 1.0]
