"""The library entry point that CLI and bot share: candidates from the store, embedded and ranked."""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Collection, Sequence
from datetime import UTC, datetime

import numpy as np

from matcher.catalog import Catalog, load_catalog
from matcher.embedding import Embedder, issue_vectors, load_embedder
from matcher.errors import ProfileError
from matcher.lexical import expand_query, load_languages, load_synonyms, profile_languages
from matcher.models import Feedback, Issue, Match, Profile
from matcher.ranking import Candidates, Query, feedback_shift, fit_candidates, rank
from matcher.settings import Settings
from matcher.store import Database
from matcher.store.issues import issues_by_url, load_issues

log = logging.getLogger(__name__)


class MatchEngine:
    """Ranks stored open issues for learners; the model is loaded on first use and kept."""

    def __init__(
        self,
        db: Database,
        settings: Settings,
        embedder: Embedder | None = None,
        catalog: Catalog | None = None,
    ):
        self.db = db
        self.settings = settings
        self.catalog = catalog or load_catalog()
        self._embedder = embedder
        self._embedder_lock = threading.Lock()  # the bot ranks from worker threads
        self.encoded_last = 0  # texts newly encoded by the last call, for reports and tests

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
        """Open issues from the store (optionally only some repositories, niches or URLs), ready to rank."""
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

    def queries(self, profiles: Sequence[Profile]) -> list[Query]:
        for profile in profiles:
            validate_profile(profile)
        synonyms, languages = load_synonyms(), load_languages()
        vectors = self.embedder.encode([p.query_text() for p in profiles])
        return [
            Query(
                vector,
                tuple(expand_query(p.query_text(), synonyms, unique=False)),
                profile_languages(p.query_text(), languages),
            )
            for p, vector in zip(profiles, vectors, strict=True)
        ]

    def _shift(self, pool: Candidates, feedback: Feedback | None) -> np.ndarray | None:
        if feedback is None or not (feedback.liked or feedback.dismissed) or not pool.issues:
            return None
        liked = self._vectors_of(feedback.liked)
        disliked = self._vectors_of(feedback.dismissed)
        return feedback_shift(pool.vectors, liked, disliked)

    def _vectors_of(self, urls: Collection[str]) -> np.ndarray | None:
        issues = issues_by_url(self.db, urls)
        return issue_vectors(self.db, self.embedder, issues)[0] if issues else None

    def match(
        self,
        profile: Profile,
        *,
        top_k: int | None = None,
        feedback: Feedback | None = None,
        repos: Collection[str] | None = None,
        niches: Collection[str] | None = None,
        now: datetime | None = None,
    ) -> list[Match]:
        """The best open issues for one learner, honouring their feedback."""
        return self.match_many(
            [profile],
            top_k=top_k,
            feedback_by_id={profile.id: feedback} if feedback else None,
            repos=repos,
            niches=niches,
            now=now,
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
    ) -> dict[str, list[Match]]:
        """Rank many learners against one pool, built and embedded once."""
        pool = self.candidates(repos, niches, only_urls)
        if not pool.issues:
            for profile in profiles:
                validate_profile(profile)
            return {profile.id: [] for profile in profiles}
        now = now or datetime.now(UTC)
        results = {}
        for profile, query in zip(profiles, self.queries(profiles), strict=True):
            feedback = (feedback_by_id or {}).get(profile.id)
            results[profile.id] = rank(
                query,
                pool,
                settings=self.settings.ranking,
                labels=self.catalog.labels,
                now=now,
                top_k=top_k or self.settings.top_k,
                feedback=feedback,
                shift=self._shift(pool, feedback),
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
