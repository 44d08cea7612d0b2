"""The library entry point that CLI and bot share: open issues from the store, ranked warm."""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from matcher.catalog import Catalog, load_catalog
from matcher.demo_vectors import store_shipped_vectors
from matcher.embedding import (
    Embedder,
    embedding_key,
    encode_and_store,
    issue_vectors,
    load_embedder,
)
from matcher.errors import ProfileError
from matcher.lexical import (
    expand_query,
    load_languages,
    load_synonyms,
    profile_languages,
    profile_phrases,
)
from matcher.models import Feedback, Level, Match, Profile
from matcher.ranking import TASK_TYPES, Query
from matcher.settings import RankingSettings, Settings
from matcher.signals import kinds_asked
from matcher.store import Database
from matcher.store.issues import issues_by_url

if TYPE_CHECKING:  # the index needs scipy: imported on first ranking, not by `--help`
    from matcher.ranking.index import RankingIndex
    from matcher.ranking.pool import Pool
    from matcher.ranking.score import Opinions

log = logging.getLogger(__name__)


BATCH = 64  # learners scored together: (pool x 64) float64 matrices stay small
QUERY_CACHE = 20_000  # profiles whose vector and terms are kept (a vector is 1.5 kB)
EMBED_AFTER_SECONDS = 60.0  # texts nobody else embedded for this long: the background encodes


def blas_threads() -> int:
    """BLAS threads per ranking process: MATCHER_BLAS_THREADS, else 1.

    One learner is a matrix-vector product too small to split well: on a 2-core machine shared
    with other work one thread answered 1.6x faster than two, and a process that ranks from
    several worker threads already uses the cores. bench/scale.py measures its floors with the
    same setting.
    """
    value = os.environ.get("MATCHER_BLAS_THREADS", "").strip()
    return int(value) if value.isdigit() and int(value) > 0 else 1


def rank_threads() -> int:
    """Threads that rank a big batch's chunks side by side: MATCHER_RANK_THREADS, else up to 2.

    numpy releases the GIL in the matrix work, so two chunks use two cores while BLAS itself
    keeps blas_threads() each; one learner (one chunk) always ranks on the calling thread.
    """
    value = os.environ.get("MATCHER_RANK_THREADS", "").strip()
    if value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, min(2, os.cpu_count() or 1))


def limit_blas_threads() -> None:
    """Apply blas_threads() to every BLAS library loaded in this process (threadpoolctl)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=blas_threads(), user_api="blas")


class MatchEngine:
    """Ranks stored open issues for learners; the model is loaded on first use and kept.

    The engine holds one warm RankingIndex for its lifetime and refreshes it from the store's
    change mark (at most every `refresh_seconds`). With `embed_in_background` (the bot) the
    refresh runs on a background thread, so a request ranks with the index as it is and never
    waits for it; issues without a vector wait until the importer or sync that wrote them stores
    one (they embed; the bot does not encode the same texts again), and are encoded here only
    when no vector arrived for EMBED_AFTER_SECONDS (a `sync --no-embed`). Otherwise (the CLI,
    batch runs) the refresh runs before ranking and encodes what is missing.
    """

    def __init__(
        self,
        db: Database,
        settings: Settings,
        embedder: Embedder | None = None,
        catalog: Catalog | None = None,
        *,
        embed_in_background: bool = False,
        refresh_seconds: float = 0.0,
        embed_after_seconds: float = EMBED_AFTER_SECONDS,
    ):
        self.db = db
        self.settings = settings
        self.catalog = catalog or load_catalog()
        self._embedder = embedder
        self._embedder_lock = threading.Lock()  # the bot ranks from worker threads
        self.encoded_last = 0  # texts newly encoded by the last call, for reports and tests
        self.embed_in_background = embed_in_background
        self.refresh_seconds = refresh_seconds
        self.embed_after_seconds = embed_after_seconds
        self._index: RankingIndex | None = None
        self._index_lock = threading.Lock()
        self._checked_at = -float("inf")
        self._queries: OrderedDict[str, Query] = OrderedDict()
        self._queries_lock = threading.Lock()
        self._background: threading.Thread | None = None
        self._waiting_since: float | None = None  # when texts last waited with no vector coming
        self.latest_now: datetime | None = None  # the `now` the latest ranking was asked at
        limit_blas_threads()

    @property
    def embedder(self) -> Embedder:
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.settings.model)
        return self._embedder

    def _embedding_key(self) -> str:
        """The store key of this engine's vectors, known without loading the model."""
        if self._embedder is not None:
            return self._embedder.name
        return embedding_key(self.settings.model)

    def candidates(
        self,
        repos: Collection[str] | None = None,
        niches: Collection[str] | None = None,
        only_urls: Collection[str] | None = None,
    ) -> Pool:
        """The pool a ranking with this focus would use, every open issue embedded first."""
        index = self.index
        if index.pending:
            self._encode_waiting(index)
        return index.pool(repos, niches, only_urls)

    def warm_up(self) -> Embedder:
        """Load the model, build the index and encode what it lacks (a process calls this at start).

        Nobody waits for an answer yet, so even in background mode the pool is encoded here.
        """
        embedder = self.embedder
        with self._index_lock:
            index = self._build_index()
            index.refresh()
            self._checked_at = time.monotonic()
        self._encode_waiting(index)
        index.pool()
        return embedder

    def _encode_waiting(self, index: RankingIndex) -> None:
        index.collect_vectors()
        if index.pending:
            index.install_vectors(self._encode(index.waiting()))

    def _encode(self, texts: dict[str, str]) -> dict[str, np.ndarray]:
        """Vectors for text hash -> text, counted in encoded_last (the demo's shipped vectors
        are stored, not encoded, so they are not counted)."""
        vectors = store_shipped_vectors(self.db, self.embedder.name, texts)
        rest = {key: text for key, text in texts.items() if key not in vectors}
        self.encoded_last += len(rest)
        vectors.update(encode_and_store(self.db, self.embedder, rest))
        return vectors

    def _build_index(self) -> RankingIndex:
        from matcher.ranking import candidates, score
        from matcher.ranking.index import RankingIndex

        def prepare(pool: Pool, previous: Pool | None, carried: np.ndarray | None) -> None:
            candidates.prepare(pool, self.settings.ranking, previous, carried)
            # past the threshold memory is the limit: computed beside the previous pool's, these
            # would add ~100 MB to a merge's peak at a million issues (the first request makes them)
            if not candidates.applies(pool, self.settings.ranking):
                # at the latest request's `now`: the bot's is the clock's, a digest's its own
                now = self.latest_now or datetime.now(UTC)
                score.prepare(pool, self.settings.ranking, now, previous)

        if self._index is None:
            self._index = RankingIndex(
                self.db,
                self._embedding_key(),
                self.catalog.labels,
                self.catalog.niches_of,
                prepare=prepare,
                compact_above=self.settings.ranking.candidates_above,
            )
            self._checked_at = -float("inf")
        return self._index

    @property
    def index(self) -> RankingIndex:
        """The warm ranking index, built on first use and refreshed from the store's change mark."""
        index, due = self._index_now()
        if due:
            self._start_background(index)
        return index

    def _index_now(self) -> tuple[RankingIndex, bool]:
        """The index as it stands, and whether a background refresh is due: a request ranks
        first and starts it after (match_many), so the request that notices a change does not
        share the interpreter with the refresh it started. Without background mode, or on first
        use, the refresh runs here."""
        with self._index_lock:
            index = self._build_index()
            due = time.monotonic() - self._checked_at >= self.refresh_seconds
            if due:
                self._checked_at = time.monotonic()
            first = index.mark < 0
        if not due:
            return index, False
        if self.embed_in_background and not first:
            return index, True
        self._refresh_now(index)
        return index, False

    def _refresh_now(self, index: RankingIndex) -> None:
        self.encoded_last = 0
        if self.embed_in_background:  # the first build: the bot's warm_up, or a first request
            index.refresh()
            return

        index.refresh(self._encode)

    def _start_background(self, index: RankingIndex) -> None:
        """Refresh, and gather vectors for waiting texts, off the request path."""
        with self._index_lock:
            if self._background is not None and self._background.is_alive():
                return
            self._background = threading.Thread(
                target=self._background_pass, args=(index,), name="index-refresh", daemon=True
            )
            self._background.start()

    def _background_pass(self, index: RankingIndex) -> None:
        _lower_this_threads_priority()
        try:
            index.refresh()
            if not index.pending:
                self._waiting_since = None
                return
            if index.collect_vectors():  # someone is embedding them: wait for the rest
                self._waiting_since = time.monotonic()
                return
            self._waiting_since = self._waiting_since or time.monotonic()
            if time.monotonic() - self._waiting_since >= self.embed_after_seconds:
                log.info("no vectors came for %d issue texts: encoding them", len(index.pending))
                while texts := index.waiting(256):
                    index.install_vectors(encode_and_store(self.db, self.embedder, texts))
                self._waiting_since = None
        except Exception:  # noqa: BLE001 - logged; the next request starts another pass
            log.exception("refreshing the ranking index failed")

    def index_status(self) -> tuple[int, float | None]:
        """Issues in the warm index and when (time.time()) it last took in a change; (0, None)
        before it is built. Never refreshes (metrics read it)."""
        index = self._index
        return (0, None) if index is None else (len(index), index.refreshed_at)

    def wait_for_refresh(self, timeout: float | None = None) -> None:
        """Block until the background refresh pass under way (if any) is done."""
        if self._background is not None:
            self._background.join(timeout)

    def wait_for_embedding(self, timeout: float | None = None) -> None:
        """Block until the background refresh is idle and, within `timeout`, no text waits for
        its vector (tests, benchmarks, shutdown)."""
        deadline = time.monotonic() + (timeout if timeout is not None else float("inf"))
        while True:
            if self._background is not None:
                self._background.join(max(deadline - time.monotonic(), 0))
            index = self._index
            if index is None or not index.pending or time.monotonic() >= deadline:
                return
            time.sleep(0.05)
            self._start_background(index)

    def queries(self, profiles: Sequence[Profile]) -> list[Query]:
        """Profiles prepared for ranking; a profile seen before is not encoded again."""
        for profile in profiles:
            validate_profile(profile)
        texts = [p.query_text() for p in profiles]
        niches = {p.query_text(): p.niche for p in profiles}
        with self._queries_lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._queries))
        if missing:
            vectors = self.embedder.encode(missing)
            with self._queries_lock:
                for text, vector in zip(missing, vectors, strict=True):
                    self._queries[text] = query_for(text, vector, niches[text])
                while len(self._queries) > QUERY_CACHE:
                    self._queries.popitem(last=False)
        with self._queries_lock:
            return [self._queries[text] for text in texts]

    def _vectors_of(self, urls: Collection[str]) -> np.ndarray | None:
        index = self._index
        found = [index.vector_of(url) for url in urls] if index is not None else []
        vectors = [v for v in found if v is not None]
        others = [u for u, v in zip(urls, found, strict=False) if v is None] if found else urls
        if others:  # closed issues, or ones the index does not hold: from the store
            issues = issues_by_url(self.db, others)
            if issues:
                vectors.extend(issue_vectors(self.db, self.embedder, issues)[0])
        return np.vstack(vectors) if vectors else None

    def _opinions(self, said: Feedback | None) -> Opinions:
        """Vectors of the issues a learner liked and dismissed (None, None: they said nothing)."""
        if said is None or not (said.liked or said.dismissed):
            return None, None
        return self._vectors_of(list(said.liked)), self._vectors_of(list(said.dismissed))

    def match(
        self,
        profile: Profile,
        *,
        top_k: int | None = None,
        feedback: Feedback | None = None,
        repos: Collection[str] | None = None,
        niches: Collection[str] | None = None,
        now: datetime | None = None,
        level: Level | None = None,
    ) -> list[Match]:
        """The best open issues for one learner, honouring their feedback and their level on the
        difficulty ramp (matcher.ramp.level_of; None: a newcomer on the auto pace)."""
        return self.match_many(
            [profile],
            top_k=top_k,
            feedback_by_id={profile.id: feedback} if feedback else None,
            repos=repos,
            niches=niches,
            now=now,
            levels_by_id={profile.id: level} if level else None,
        )[profile.id]

    def match_many(
        self,
        profiles: Sequence[Profile],
        *,
        top_k: int | None = None,
        feedback_by_id: dict[str, Feedback] | None = None,
        repos: Collection[str] | None = None,
        niches: Collection[str] | None = None,
        only_urls: Collection[str] | None = None,
        now: datetime | None = None,
        levels_by_id: dict[str, Level] | None = None,
    ) -> dict[str, list[Match]]:
        """Rank many learners against one pool: matrix work over the warm index, in batches."""
        for profile in profiles:
            validate_profile(profile)
        index, due = self._index_now()
        try:
            return self._match_many(
                index, profiles, top_k, feedback_by_id, repos, niches, only_urls, now, levels_by_id
            )
        finally:
            if due:
                self._start_background(index)

    def _match_many(
        self,
        index: RankingIndex,
        profiles: Sequence[Profile],
        top_k: int | None,
        feedback_by_id: dict[str, Feedback] | None,
        repos: Collection[str] | None,
        niches: Collection[str] | None,
        only_urls: Collection[str] | None,
        now: datetime | None,
        levels_by_id: dict[str, Level] | None,
    ) -> dict[str, list[Match]]:
        pool = index.pool(repos, niches, only_urls)
        if not pool.showable:
            return {profile.id: [] for profile in profiles}
        now = now or datetime.now(UTC)
        self.latest_now = now
        top_k = top_k or self.settings.top_k
        queries = self.queries(profiles)  # new profiles encoded together, before any ranking
        # the store is read on this thread; the chunks then rank from arrays alone
        feedback = [(feedback_by_id or {}).get(p.id) for p in profiles]
        opinions = [self._opinions(said) for said in feedback]
        levels = [(levels_by_id or {}).get(p.id) for p in profiles]

        def rank(start: int) -> list[list[Match]]:
            end = start + BATCH
            return _rank_batch(
                index,
                pool,
                queries[start:end],
                feedback[start:end],
                opinions[start:end],
                levels[start:end],
                top_k,
                now,
                self.settings.ranking,
            )

        starts = range(0, len(profiles), BATCH)
        threads = min(rank_threads(), len(starts)) if len(starts) > 1 else 1
        if threads > 1:
            with ThreadPoolExecutor(threads, thread_name_prefix="rank") as workers:
                ranked = [m for chunk in workers.map(rank, starts) for m in chunk]
        else:
            ranked = [m for start in starts for m in rank(start)]
        return {profile.id: matches for profile, matches in zip(profiles, ranked, strict=True)}


def _rank_batch(
    index: RankingIndex,
    pool: Pool,
    queries: Sequence[Query],
    feedback: Sequence[Feedback | None],
    opinions: Sequence[Opinions],
    levels: Sequence[Level | None],
    top_k: int,
    now: datetime,
    settings: RankingSettings,
) -> list[list[Match]]:
    """One chunk of learners ranked (arrays only: safe on a worker thread); above
    settings.candidates_above issues through the candidate stage."""
    from matcher.ranking.candidates import rank_batch

    return rank_batch(
        pool,
        queries,
        settings=settings,
        labels=index.labels,
        now=now,
        lexicon=index.lexicon,
        top_k=top_k,
        feedback=feedback,
        levels=levels,
        opinions=opinions,
    )


def _lower_this_threads_priority() -> None:
    """Let requests have the CPU first while a refresh runs beside them (Linux: per thread)."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
    except (AttributeError, OSError):  # another system, or not allowed: the default priority
        pass


def query_for(text: str, vector: np.ndarray, niche: str = "") -> Query:
    """A profile's query text and its vector, prepared for ranking: terms expanded, languages,
    the kinds of work its niche names, its phrases as written."""
    return Query(
        vector,
        tuple(expand_query(text, load_synonyms(), unique=False)),
        profile_languages(text, load_languages()),
        kinds_asked(niche, TASK_TYPES),
        profile_phrases(text),
    )


def validate_profile(profile: Profile) -> None:
    """A profile needs some words to match on."""
    if not re.search(r"\w", f"{profile.skills} {profile.niche}"):
        raise ProfileError(f"profile '{profile.id}' is empty: give skills or a niche in words")
    if len(profile.query_text()) > 2000:
        raise ProfileError(
            f"profile '{profile.id}' is too long: keep skills and niche under 2000 characters"
        )
