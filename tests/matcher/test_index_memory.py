"""What the warm index keeps, and how it is built (issue 22, 1,000,000 issues in 2 GB): records
without bodies, a first build a page at a time, term-major counts in small integers, and compact
(int8) vectors above the candidate threshold, each ranking as before."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta

import numpy as np
import pytest
from scipy import sparse
from sqlalchemy import update

from matcher import lexical
from matcher.catalog import load_catalog
from matcher.engine import MatchEngine, query_for
from matcher.lexical import Bm25Weights, bm25_idf
from matcher.models import Welcome, text_hash
from matcher.ranking import candidates, index, terms
from matcher.ranking import pool as ranking_pool
from matcher.ranking.pool import (
    Lexicon,
    appended_terms,
    build_pool,
    empty_snapshot,
    hash_array,
    snapshot_of,
    stacked_terms,
    term_major,
)
from matcher.ranking.records import IssueRecords, SharedValues
from matcher.ranking.vectors import compacted, is_compact, row, widened, width
from matcher.settings import load_settings
from matcher.store.issues import IssueRow, save_welcome, upsert_issues
from tests.conftest import NOW
from tests.fakes.embedder import HashingEmbedder
from tests.matcher.conftest import upsert_with_grid_vectors
from tests.matcher.test_index import PROFILES, Parts, pool

LABELS = load_catalog().labels


def identical(matches):
    return [(m.issue, m.score, m.reasons, m.components) for m in matches]


def test_records_give_back_every_field_but_the_body():
    issues = pool(40, seed=3)
    issues[0] = dataclasses.replace(
        issues[0],
        welcome=Welcome(3, 2, 4.5, NOW - timedelta(days=2), NOW, 182, 1.0),
        unanswered_comments=2,
        unanswered_since=NOW - timedelta(days=5, microseconds=7),
        stars=12,
        topics=("nlp",),
        niches=("nlp",),
        linked_prs=("https://github.com/o/r/pull/1",),
        claimed=True,
        demo=True,
        created_at=None,
    )
    records = IssueRecords.of(issues, SharedValues())
    assert [records.issue(r) for r in range(len(issues))] == [
        dataclasses.replace(i, body="") for i in issues
    ]
    assert records.repos() == [i.repo for i in issues]
    rows = np.array([5, 1])
    fresh = [dataclasses.replace(issues[5], comments=99), dataclasses.replace(issues[1], title="x")]
    changed = records.replaced(rows, IssueRecords.of(fresh, records.shared))
    assert changed.issue(5).comments == 99 and changed.issue(1).title == "x"
    assert records.issue(5) == dataclasses.replace(issues[5], body="")  # the original is kept


def test_a_match_is_its_issue_without_the_body(db, settings):
    issues = pool(50, seed=4)
    upsert_issues(db, issues)
    save_welcome(db, issues[0].repo, Welcome(5, 4, 2.0, NOW, NOW), cost=1)
    engine = MatchEngine(db, settings, embedder=HashingEmbedder())
    by_url = {i.url: i for i in issues}
    for profile in PROFILES:
        for m in engine.match(profile, now=NOW):
            assert dataclasses.replace(m.issue, welcome=None) == dataclasses.replace(
                by_url[m.issue.url], body=""
            )
            assert (m.issue.welcome is not None) == (m.issue.repo == issues[0].repo)


def built(db, settings, page: int, monkeypatch):
    monkeypatch.setattr(index, "PAGE", page)
    monkeypatch.setattr(index, "ONE_PAGE_UPTO", 0)  # a small store is read in pages too
    engine = MatchEngine(db, settings, embedder=HashingEmbedder())
    engine.warm_up()
    return engine


def test_a_build_page_by_page_equals_a_build_in_one_page(db, settings, monkeypatch):
    upsert_issues(db, pool(70, seed=5))
    paged, whole = built(db, settings, 8, monkeypatch), built(db, settings, 1000, monkeypatch)
    one, other = paged.index.snapshot, whole.index.snapshot
    assert one.records.urls.tolist() == other.records.urls.tolist()
    assert [one.issue(r) for r in range(70)] == [other.issue(r) for r in range(70)]
    assert np.array_equal(one.hashes, other.hashes)
    assert np.array_equal(one.vectors, other.vectors)
    assert one.room is not None and one.room.holds(one.vectors)
    assert paged.index.lexicon.vocabulary.keys() == whole.index.lexicon.vocabulary.keys()
    for name in ("indptr", "data"):
        assert np.array_equal(getattr(one.counts_t, name), getattr(other.counts_t, name))
    for f in dataclasses.fields(one.signals):
        assert np.array_equal(getattr(one.signals, f.name), getattr(other.signals, f.name))
    for profile in PROFILES:
        assert identical(paged.match(profile, now=NOW)) == identical(whole.match(profile, now=NOW))


def test_rows_written_after_the_first_build_s_mark_join_at_the_next_refresh(
    db, settings, monkeypatch
):
    upsert_issues(db, pool(30, seed=6))
    real = index.open_issue_pages
    late = pool(33, seed=7)[30:]

    def pages_then_a_write(db_, upto, size):
        upsert_issues(db, late)  # after the build read its mark
        yield from real(db_, upto, size)

    monkeypatch.setattr(index, "open_issue_pages", pages_then_a_write)
    built = index.RankingIndex(db, HashingEmbedder().name, LABELS, load_catalog().niches_of)
    built.refresh()
    monkeypatch.setattr(index, "open_issue_pages", real)
    assert len(built) == 30
    built.refresh()
    assert len(built) == 33


def test_term_major_bm25_weights_are_the_row_major_ones_to_the_bit():
    rng = np.random.default_rng(0)
    counts = sparse.random(300, 90, density=0.08, format="csr", random_state=rng, dtype=np.float32)
    counts.data = np.ceil(counts.data * 5).astype(np.float32)
    doc_len = np.asarray(counts.sum(axis=1), dtype=np.float64).ravel()
    df = np.bincount(counts.indices, minlength=counts.shape[1])
    idf = bm25_idf(df, counts.shape[0])
    k1, b = 1.5, 0.75
    # the row-major computation the index made before (then transposed)
    norm = k1 * (1 - b + b * doc_len / doc_len.mean())
    tf = counts.data.astype(np.float64)
    below = np.repeat(norm, np.diff(counts.indptr)) + tf
    expected = sparse.csr_matrix(
        (tf * (k1 + 1) / below * idf[counts.indices], counts.indices, counts.indptr),
        shape=counts.shape,
    ).T.tocsr()
    counts_t = term_major(counts)
    assert counts_t.data.dtype == np.uint8
    weights = Bm25Weights.fitted(counts_t, doc_len, doc_len.mean(), idf, k1, b)
    got = weights.whole()
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(got, name), getattr(expected, name)), name
    asked = np.array([3, 17, 42, 88])
    rows = weights[asked]
    for name in ("data", "indices", "indptr"):
        assert np.array_equal(getattr(rows, name), getattr(expected[asked], name)), name
    one = weights[17]
    assert one.shape == (1, counts.shape[0])
    assert np.array_equal(one.data, expected[17].data)


def test_the_weights_of_some_documents_are_the_whole_matrix_s_to_the_bit():
    rng = np.random.default_rng(3)
    counts_t = term_major(counts(200, 60, seed=4))
    doc_len = np.asarray(counts_t.sum(axis=0), dtype=np.float64).ravel()
    idf = bm25_idf(np.diff(counts_t.indptr), counts_t.shape[1])
    weights = Bm25Weights.fitted(counts_t, doc_len, doc_len.mean(), idf, 1.2, 0.6, np.float32)
    terms = np.array([0, 5, 9, 31, 59])
    documents = np.sort(rng.choice(200, size=40, replace=False))
    some = weights.at(terms, documents)
    assert some.shape == (60, 40)
    expected = weights.whole().toarray()[:, documents]
    got = some.whole().toarray()
    assert got.dtype == np.float32
    assert np.array_equal(got[terms], expected[terms])
    others = np.setdiff1d(np.arange(60), terms)
    assert not got[others].any()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_a_query_s_bm25_sum_is_the_sparse_product_s_to_the_bit(dtype):
    counts_t = term_major(counts(400, 70, seed=6))
    doc_len = np.asarray(counts_t.sum(axis=0), dtype=np.float64).ravel()
    idf = bm25_idf(np.diff(counts_t.indptr), counts_t.shape[1])
    weights = Bm25Weights.fitted(counts_t, doc_len, doc_len.mean(), idf, 1.5, 0.75, dtype)
    terms = np.array([2, 9, 10, 33, 61])
    asked = np.sqrt(np.array([1.0, 2.0, 1.0, 3.0, 1.0])).astype(dtype)
    assert np.array_equal(weights.dot(terms, asked), weights[terms].T @ asked)
    assert weights.dot(terms, asked).dtype == (weights[terms].T @ asked).dtype


def test_the_rows_a_pool_keeps_are_bounded_and_read_the_same(monkeypatch):
    counts_t = term_major(counts(300, 80, seed=5))
    doc_len = np.asarray(counts_t.sum(axis=0), dtype=np.float64).ravel()
    idf = bm25_idf(np.diff(counts_t.indptr), counts_t.shape[1])
    monkeypatch.setattr(lexical, "ROWS_KEPT", 200)  # a few rows of 60 weights each
    weights = Bm25Weights.fitted(counts_t, doc_len, doc_len.mean(), idf, 1.5, 0.75)
    whole = weights.whole()
    for start in range(0, 80, 7):
        asked = np.arange(start, min(start + 9, 80))
        for _ in range(2):  # computed, then read back while it is still kept
            got = weights[asked]
            for name in ("data", "indices", "indptr"):
                assert np.array_equal(getattr(got, name), getattr(whole[asked], name)), name
        assert weights.kept.entries <= 200 + max(np.diff(counts_t.indptr))


def test_rows_weighed_by_several_threads_are_counted_once(monkeypatch):
    counts_t = term_major(counts(300, 80, seed=6))
    doc_len = np.asarray(counts_t.sum(axis=0), dtype=np.float64).ravel()
    idf = bm25_idf(np.diff(counts_t.indptr), counts_t.shape[1])
    monkeypatch.setattr(lexical, "ROWS_KEPT", 1_000)
    weights = Bm25Weights.fitted(counts_t, doc_len, doc_len.mean(), idf, 1.5, 0.75)
    whole = weights.whole().toarray()

    def ask(seed: int) -> None:
        for term in np.random.default_rng(seed).permutation(80).tolist() * 3:
            assert np.array_equal(weights[term].toarray()[0], whole[term])

    threads = [threading.Thread(target=ask, args=(seed,)) for seed in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert weights.kept.entries == sum(len(row) for row in weights.kept.values()) <= 1_000 + 300


def test_the_phrase_rows_a_pool_keeps_are_bounded_and_score_the_same(monkeypatch):
    """A community's many phrases cannot grow what a pool keeps without bound: past ROWS_KEPT
    the rows are dropped and computed again, to the same scores."""
    issues, lexicon, embedder = pool(60, seed=4), Lexicon(), HashingEmbedder()
    vectors = embedder.encode([i.embedding_text() for i in issues])
    snapshot = snapshot_of(issues, vectors, LABELS, lexicon)
    settings = load_settings().ranking
    texts = [p.query_text() for p in PROFILES] + [
        "speech recognition, data loading",
        "image classification, unit tests for models",
    ]
    queries = [query_for(t, v) for t, v in zip(texts, embedder.encode(texts), strict=True)]
    unbounded = build_pool(snapshot)
    expected = [terms.lexical_scores(unbounded, [q], lexicon, settings) for q in queries]
    largest = max(len(where) for where, _ in unbounded.phrase_rows.values())
    assert unbounded.phrase_rows.entries > 4 + largest  # the bound below is passed
    monkeypatch.setattr(lexical, "ROWS_KEPT", 4)
    bounded = build_pool(snapshot)
    for _ in range(2):
        for query, scores in zip(queries, expected, strict=True):
            assert np.array_equal(terms.lexical_scores(bounded, [query], lexicon, settings), scores)
            assert bounded.phrase_rows.entries <= 4 + largest


def test_issues_of_the_same_niches_share_one_set():
    issues = [
        dataclasses.replace(issue, niches=("Vision", "NLP") if n % 2 else ("rl",))
        for n, issue in enumerate(pool(40, seed=9))
    ]
    vectors = HashingEmbedder().encode([i.embedding_text() for i in issues])
    niches = snapshot_of(issues, vectors, LABELS, Lexicon()).niches
    assert niches[1] == {"vision", "nlp"} and niches[0] == {"rl"}
    assert len({id(found) for found in niches}) == 2  # not a set per row: a million of them


def test_holders_are_the_rows_whose_counts_hold_the_term():
    issues = pool(60, seed=8)
    lexicon = Lexicon()
    vectors = HashingEmbedder().encode([i.embedding_text() for i in issues])
    snapshot = snapshot_of(issues, vectors, LABELS, lexicon)
    dense = snapshot.counts_t.toarray()
    rows = np.array([0, 7, 13, 59, 22])
    for term in range(dense.shape[0]):
        assert snapshot.holders(term, rows).tolist() == (dense[term, rows] > 0).tolist()
    assert not snapshot.holders(dense.shape[0] + 5, rows).any()


def test_compact_products_and_centre_are_the_widened_ones(monkeypatch):
    monkeypatch.setattr("matcher.ranking.vectors.WIDE_BLOCK", 7)
    rng = np.random.default_rng(1)
    compact = compacted(rng.standard_normal((40, 16)).astype(np.float32))
    wide = widened(compact)
    queries = rng.standard_normal((3, 16)).astype(np.float32)
    assert np.array_equal(terms.products(queries, compact), terms.products(queries, wide))
    # one learner: BLAS's matrix-vector product, a block at a time (the last bits may differ)
    one, other = terms.products(queries[:1], compact), terms.products(queries[:1], wide)
    assert np.allclose(one, other, rtol=1e-6, atol=1e-6)
    a, b = terms.pool_centre(compact), terms.pool_centre(wide)
    assert np.allclose(a.mean, b.mean, rtol=1e-12, atol=1e-15)
    assert np.allclose(a.norms, b.norms, rtol=1e-6)


def test_compact_rows_keep_a_quarter_of_the_bytes_and_products_within_int8_rounding():
    rng = np.random.default_rng(2)
    units = rng.standard_normal((2_000, 384)).astype(np.float32)
    units /= np.linalg.norm(units, axis=1, keepdims=True)
    compact = compacted(units)
    assert compact.nbytes == 2_000 * (384 + 4)  # float32: 2,000 x 1,536
    assert width(compact) == 384 and is_compact(compact)
    moved = np.linalg.norm(widened(compact) - units, axis=1)
    assert (moved <= compact["scale"] / 2 * np.sqrt(384) + 1e-7).all()  # half a step a value
    error = np.abs(widened(compact) @ units[:50].T - units @ units[:50].T)
    assert error.max() < 3e-3 and np.median(error) < 3e-4
    # a row widened and compacted again keeps its codes (a merge may re-store a kept vector)
    again = compacted(widened(compact))
    assert np.array_equal(again["codes"], compact["codes"])
    assert np.array_equal(row(compact, 7), widened(compact[7:8])[0])
    zero = compacted(np.zeros((2, 384), np.float32))
    assert not widened(zero).any()  # a row not embedded yet stays zero


def test_above_the_threshold_vectors_are_compact_and_rank_as_the_exact_lists(
    staged_and_exact,
):
    staged, exact = staged_and_exact
    staged.warm_up()
    exact.warm_up()
    assert is_compact(staged.index.snapshot.vectors)
    assert staged.index.pool().bm25.dtype == np.float32
    assert exact.index.snapshot.vectors.dtype == np.float32
    assert exact.index.pool().bm25.dtype == np.float64
    for profile in PROFILES:
        mine, theirs = staged.match(profile, now=NOW), exact.match(profile, now=NOW)
        assert [m.issue.url for m in mine] == [m.issue.url for m in theirs]  # recall 1.0
        assert [m.reasons for m in mine] == [m.reasons for m in theirs]
        assert [m.score for m in mine] == pytest.approx([m.score for m in theirs], abs=1e-5)


def test_a_compact_index_appends_new_issues_in_place(staged_and_exact, db):
    staged, _ = staged_and_exact
    staged.warm_up()
    before = staged.index.snapshot
    upsert_issues(db, [dataclasses.replace(i, url=f"{i.url}-new") for i in pool(5, seed=12)])
    staged.index.refresh()
    after = staged.index.snapshot
    assert len(after) == 75 and is_compact(after.vectors)
    assert after.room is before.room and after.room.holds(after.vectors)


def test_an_index_past_the_threshold_keeps_compact_rows_through_appends_and_closes(
    db, settings, monkeypatch
):
    monkeypatch.setattr(candidates, "CLUSTER_SIZE", 10)
    monkeypatch.setattr(candidates, "PROBED", 10_000)
    vectors = upsert_with_grid_vectors(db, pool(70, seed=13))
    lowered = settings.model_copy(
        update={"ranking": settings.ranking.model_copy(update={"candidates_above": 72})}
    )
    staged = MatchEngine(db, lowered, embedder=HashingEmbedder())
    exact = MatchEngine(db, settings, embedder=HashingEmbedder())
    staged.warm_up()
    assert staged.index.snapshot.vectors.dtype == np.float32  # at or below the threshold
    added = [dataclasses.replace(i, url=f"{i.url}-new") for i in pool(5, seed=14)]
    vectors |= upsert_with_grid_vectors(db, added)
    staged.index.refresh()
    assert is_compact(staged.index.snapshot.vectors) and len(staged.index.snapshot) == 75
    closed = [dataclasses.replace(i, state="closed") for i in pool(70, seed=13)[:2]]
    upsert_issues(db, closed)
    before = staged.index.snapshot
    staged.index.refresh()
    snapshot = staged.index.snapshot
    assert is_compact(snapshot.vectors) and len(snapshot) == 75  # two rows gone, in place
    assert snapshot.held_issues == len(staged.index) == 73 and snapshot.room is before.room
    for at in range(len(snapshot)):
        assert np.array_equal(row(snapshot.vectors, at), vectors[snapshot.hash_of(at)])
    for profile in PROFILES:
        mine, theirs = staged.match(profile, now=NOW), exact.match(profile, now=NOW)
        assert [(m.issue.url, m.reasons) for m in mine] == [
            (m.issue.url, m.reasons) for m in theirs
        ]
        assert [m.score for m in mine] == pytest.approx([m.score for m in theirs], abs=1e-5)


def test_at_the_threshold_the_index_keeps_float32_and_the_exact_lists(db, settings):
    upsert_issues(db, pool(70, seed=10))
    at = settings.model_copy(
        update={"ranking": settings.ranking.model_copy(update={"candidates_above": 70})}
    )
    exact = MatchEngine(db, settings, embedder=HashingEmbedder())
    bounded = MatchEngine(db, at, embedder=HashingEmbedder())
    assert bounded.index.snapshot.vectors.dtype == np.float32
    for profile in PROFILES:
        assert identical(bounded.match(profile, now=NOW)) == identical(
            exact.match(profile, now=NOW)
        )


def test_a_focus_pool_weighs_its_own_rows():
    issues = pool(60, seed=11)
    lexicon = Lexicon()
    vectors = HashingEmbedder().encode([i.embedding_text() for i in issues])
    snapshot = snapshot_of(issues, vectors, LABELS, lexicon)
    rows = np.arange(0, 60, 3)
    focus = build_pool(snapshot, rows)
    own = snapshot_of([issues[r] for r in rows], vectors[rows], LABELS, lexicon)
    alone = build_pool(own, np.arange(len(rows)))
    assert np.array_equal(focus.bm25.whole().toarray(), alone.bm25.whole().toarray())


def counts(rows: int, terms: int, seed: int) -> sparse.csr_matrix:
    rng = np.random.default_rng(seed)
    found = sparse.random(rows, terms, density=0.2, format="csr", random_state=rng)
    found.data = np.ceil(found.data * 300).astype(np.float32)  # past uint8 in places
    return found


def wider(matrix: sparse.csr_matrix, terms: int) -> sparse.csr_matrix:
    return sparse.csr_matrix((matrix.data, matrix.indices, matrix.indptr), (matrix.shape[0], terms))


def test_pages_and_appended_rows_stack_as_scipy_stacks_them():
    pages = [counts(30, 20, 1), counts(0, 20, 2), counts(25, 35, 3), counts(1, 50, 4)]
    expected = term_major(sparse.vstack([wider(p, 60) for p in pages], format="csr"))
    for got in (
        stacked_terms(pages, 60),
        appended_terms(stacked_terms(pages[:2], 20), stacked_terms(pages[2:], 50), 60),
    ):
        assert got.shape == expected.shape and got.data.dtype == np.uint16
        for name in ("data", "indices", "indptr"):
            assert np.array_equal(getattr(got, name), getattr(expected, name)), name


def test_pages_read_every_row_of_a_store_whose_rows_share_a_change_mark(db, settings, monkeypatch):
    """Rows migrated at revision 0008 took one change_seq: pages go on by URL among them."""
    issues = pool(40, seed=13)
    upsert_issues(db, issues)
    with db.session() as session:
        session.execute(update(IssueRow).values(change_seq=5))
    engine = built(db, settings, 7, monkeypatch)
    assert sorted(engine.index.snapshot.records.urls.tolist()) == sorted(i.url for i in issues)


def test_text_hashes_keep_their_32_bytes_and_come_back_whole():
    hashes = [text_hash("a"), "ab" * 31 + "00", "00" * 32, text_hash("b")]  # trailing zero bytes
    array = hash_array(hashes)
    assert array.dtype == np.dtype("S32") and array.nbytes == 4 * 32
    snapshot = dataclasses.replace(empty_snapshot(Lexicon()), hashes=array)
    assert [snapshot.hash_of(row) for row in range(4)] == hashes
    assert np.isin(array, hash_array(["00" * 32, text_hash("b")])).tolist() == [0, 0, 1, 1]


def test_a_merge_that_removes_rows_and_passes_the_threshold_compacts_the_rows_it_keeps(
    monkeypatch,
):
    monkeypatch.setattr("matcher.ranking.vectors.WIDE_BLOCK", 7)  # several blocks
    part = Parts(40, seed=15)
    old, added = part(0, 36), part(36, 40)
    keep = np.arange(1, 36, 2)
    merged = ranking_pool.merge_snapshots(
        old, keep, added, len(part.lexicon.vocabulary), compact=True
    )
    assert is_compact(merged.vectors) and len(merged) == len(keep) + 4
    expected = compacted(np.vstack([old.vectors[keep], added.vectors]))
    assert np.array_equal(merged.vectors["codes"], expected["codes"])
    assert np.array_equal(merged.vectors["scale"], expected["scale"])
