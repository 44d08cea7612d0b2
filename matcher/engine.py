"""The library entry point that CLI and bot share: open issues from the store, ranked warm."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import numpy as np

from matcher.catalog import Catalog, load_catalog
from matcher.embedding import Embedder, encode_and_store, issue_vectors, load_embedder
from matcher.errors import ProfileError
from matcher.lexical import (
    expand_query,
    load_languages,
    load_synonyms,
    profile_languages,
    profile_phrases,
)
from matcher.models import Feedback, Issue, Level, Match, Profile
from matcher.ranking import TASK_TYPES, Candidates, Query, feedback_shift, fit_candidates
from matcher.settings import Settings
from matcher.signals import kinds_asked
from matcher.store import Database
from matcher.store.issues import issues_by_url, load_issues

if TYPE_CHECKING:  # the index needs scipy: imported on first ranking, not by `--help`
    from matcher.index import Pool, RankingIndex

log = logging.getLogger(__name__)


BATCH = 64  # learners scored together: (pool x 64) float64 matrices stay small
QUERY_CACHE = 20_000  # profiles whose vector and terms are kept (a vector is 1.5 kB)


class MatchEngine:
    """Ranks stored open issues for learners; the model is loaded on first use and kept.

    The engine holds one warm RankingIndex for its lifetime and refreshes it from the store's
    change mark before each ranking (at most every `refresh_seconds`). With
    `embed_in_background`, issues the store has no vector for are encoded by a background
    thread and join the index when ready, so a request never waits for the model; otherwise
    (the CLI, batch runs) they are encoded before ranking.
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
    ):
        self.db = db
        self.settings = settings
        self.catalog = catalog or load_catalog()
        self._embedder = embedder
        self._embedder_lock = threading.Lock()  # the bot ranks from worker threads
        self.encoded_last = 0  # texts newly encoded by the last call, for reports and tests
        self.embed_in_background = embed_in_background
        self.refresh_seconds = refresh_seconds
        self._index: RankingIndex | None = None
        self._index_lock = threading.Lock()
        self._checked_at = -float("inf")
        self._queries: OrderedDict[str, Query] = OrderedDict()
        self._queries_lock = threading.Lock()
        self._background: threading.Thread | None = None

    @property
    def embedder(self) -> Embedder:
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = load_embedder(self.settings.model)
        return self._embedder

    def candidates(
        self,
        repos: Collection[str] | None = None,
        niches: Collection[str] | None = None,
        only_urls: Collection[str] | None = None,
    ) -> Candidates:
        """Open issues from the store (optionally some repositories, niches or URLs), fitted."""
        issues = load_issues(self.db, open_only=True, repos=repos)
        if only_urls is not None:
            issues = [i for i in issues if i.url in only_urls]
        if niches:
            wanted = {n.lower() for n in niches}
            issues = [i for i in issues if wanted & {n.lower() for n in self._niches(i)}]
        if not issues:  # nothing to rank: no need to load the model
            self.encoded_last = 0
            return fit_candidates([], np.zeros((0, 0), dtype=np.float32))
        vectors, self.encoded_last = issue_vectors(self.db, self.embedder, issues)
        return fit_candidates(issues, vectors)

    def _niches(self, issue: Issue) -> tuple[str, ...]:
        return issue.niches or self.catalog.niches_of(issue.repo)

    def warm_up(self) -> Embedder:
        """Load the model, build the index and encode what it lacks (a process calls this at start).

        Nobody waits for an answer yet, so even in background mode the pool is encoded here.
        """
        embedder = self.embedder
        index = self.index
        with self._index_lock:
            index.refresh()
            if index.pending:
                index.install_vectors(encode_and_store(self.db, embedder, index.waiting()))
        index.pool()  # the unfiltered pool's BM25 weights, ready for the first request
        return embedder

    @property
    def index(self) -> RankingIndex:
        """The warm ranking index, built on first use and refreshed from the store's change mark."""
        from matcher.index import RankingIndex

        with self._index_lock:
            if self._index is None:
                self._index = RankingIndex(
                    self.db, self.settings.model, self.catalog.labels, self.catalog.niches_of
                )
                self._checked_at = -float("inf")
            index = self._index
            if time.monotonic() - self._checked_at >= self.refresh_seconds:
                self._refresh(index)
                self._checked_at = time.monotonic()
        return index

    def _refresh(self, index: RankingIndex) -> None:
        self.encoded_last = 0
        if self.embed_in_background:
            index.refresh()
            if index.pending:
                self._embed_in_background(index)
            return

        def encode_now(texts: dict[str, str]) -> dict:
            self.encoded_last += len(texts)
            return encode_and_store(self.db, self.embedder, texts)

        index.refresh(encode_now)

    def _embed_in_background(self, index: RankingIndex) -> None:
        """Encode the issues waiting for a vector off the request path; they join when done."""
        if self._background is not None and self._background.is_alive():
            return

        def work() -> None:
            while texts := index.waiting(256):
                try:
                    index.install_vectors(encode_and_store(self.db, self.embedder, texts))
                except Exception:  # noqa: BLE001 - logged; the issues stay out of the pool
                    log.exception("background embedding of %d issue texts failed", len(texts))
                    return
            log.info("background embedding done; the index has every open issue")

        self._background = threading.Thread(target=work, name="embed-pending", daemon=True)
        self._background.start()

    def wait_for_embedding(self, timeout: float | None = None) -> None:
        """Block until the background embedder is idle (tests, benchmarks, shutdown)."""
        if self._background is not None:
            self._background.join(timeout)

    def queries(self, profiles: Sequence[Profile]) -> list[Query]:
        """Profiles prepared for ranking; a profile seen before is not encoded again."""
        for profile in profiles:
            validate_profile(profile)
        texts = [p.query_text() for p in profiles]
        niches = {p.query_text(): p.niche for p in profiles}
        with self._queries_lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._queries))
        if missing:
            synonyms, languages = load_synonyms(), load_languages()
            vectors = self.embedder.encode(missing)
            with self._queries_lock:
                for text, vector in zip(missing, vectors, strict=True):
                    self._queries[text] = Query(
                        vector,
                        tuple(expand_query(text, synonyms, unique=False)),
                        profile_languages(text, languages),
                        kinds_asked(niches[text], TASK_TYPES),
                        profile_phrases(text),
                    )
                while len(self._queries) > QUERY_CACHE:
                    self._queries.popitem(last=False)
        with self._queries_lock:
            return [self._queries[text] for text in texts]

    def _shift(self, pool: Candidates, feedback: Feedback | None) -> np.ndarray | None:
        if feedback is None or not (feedback.liked or feedback.dismissed) or not pool.issues:
            return None
        liked = self._vectors_of(feedback.liked)
        disliked = self._vectors_of(feedback.dismissed)
        return feedback_shift(pool.vectors, liked, disliked)

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

    def _shifts(self, pool: Pool, feedback: Sequence[Feedback | None]) -> list[np.ndarray | None]:
        """Each learner's nudge from what they liked and dismissed (None: they said nothing)."""
        from matcher.index import feedback_shifts

        liked: list[np.ndarray | None] = []
        disliked: list[np.ndarray | None] = []
        for said in feedback:
            opinion = said is not None and bool(said.liked or said.dismissed)
            liked.append(self._vectors_of(list(said.liked)) if opinion and said else None)
            disliked.append(self._vectors_of(list(said.dismissed)) if opinion and said else None)
        return feedback_shifts(pool.vectors, liked, disliked)

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
        index = self.index
        pool = index.pool(repos, niches, only_urls)
        if not len(pool):
            return {profile.id: [] for profile in profiles}
        now = now or datetime.now(UTC)
        top_k = top_k or self.settings.top_k
        results: dict[str, list[Match]] = {}
        for start in range(0, len(profiles), BATCH):
            batch = profiles[start : start + BATCH]
            feedback = [(feedback_by_id or {}).get(p.id) for p in batch]
            levels = [(levels_by_id or {}).get(p.id) for p in batch]
            results.update(self._rank_batch(index, pool, batch, feedback, levels, top_k, now))
        return results

    def _rank_batch(
        self,
        index: RankingIndex,
        pool: Pool,
        profiles: Sequence[Profile],
        feedback: Sequence[Feedback | None],
        levels: Sequence[Level | None],
        top_k: int,
        now: datetime,
    ) -> dict[str, list[Match]]:
        from matcher.index import (
            build_matches,
            excluded_positions,
            hold_hard_below_beginner,
            score_batch,
            select_top,
        )

        ranking = self.settings.ranking
        queries = self.queries(profiles)
        score, parts = score_batch(
            pool,
            queries,
            settings=ranking,
            now=now,
            vocabulary=index.vocabulary,
            languages=index.languages,
            shifts=self._shifts(pool, feedback),
            levels=levels,
        )
        allowed = np.ones(len(pool), dtype=bool) if ranking.include_taken else ~pool.taken
        results = {}
        for column, (profile, query, said, level) in enumerate(
            zip(profiles, queries, feedback, levels, strict=True)
        ):
            eligible = allowed.copy()
            eligible[excluded_positions(pool, said)] = False
            score[column] = hold_hard_below_beginner(pool, score, parts, column, eligible, ranking)
            chosen = select_top(
                score[column],
                eligible,
                pool,
                top_k=top_k,
                max_per_repo=ranking.max_per_repo,
            )
            results[profile.id] = build_matches(
                index, pool, query, chosen, score[column], parts, column, now, ranking, level
            )
        return results


def validate_profile(profile: Profile) -> None:
    """A profile needs some words to match on."""
    if not re.search(r"\w", f"{profile.skills} {profile.niche}"):
        raise ProfileError(f"profile '{profile.id}' is empty: give skills or a niche in words")
    if len(profile.query_text()) > 2000:
        raise ProfileError(
            f"profile '{profile.id}' is too long: keep skills and niche under 2000 characters"
        )
