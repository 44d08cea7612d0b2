"""Which repositories a sync walks: the catalogue's (or the caller's) and those found by topic."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from matcher.catalog import Catalog
from matcher.github import GitHubClient, RepoMeta
from matcher.settings import Settings
from matcher.store import Database
from matcher.store.discovery import get_discovery, put_discovery
from matcher.store.repo_meta import RepoMetaRecord, save_repo_meta

# GitHub topics that name one of our niches (config/repos.yaml `niches:`).
TOPIC_NICHES = {
    "nlp": "nlp",
    "natural-language-processing": "nlp",
    "transformers": "nlp",
    "computer-vision": "vision",
    "image-processing": "vision",
    "object-detection": "vision",
    "reinforcement-learning": "rl",
    "robotics": "robotics",
    "audio": "audio",
    "speech-recognition": "speech",
    "speech": "speech",
    "mlops": "mlops",
    "llm": "llm-apps",
    "large-language-models": "llm-apps",
    "rag": "llm-apps",
    "time-series": "time-series",
    "forecasting": "time-series",
    "recommender-system": "recsys",
    "graph-neural-networks": "graph",
    "data-visualization": "visualization",
    "visualization": "visualization",
    "explainable-ai": "explainability",
    "bayesian-inference": "probabilistic",
    "deep-learning": "deep-learning-frameworks",
    "gpu": "gpu-performance",
    "cuda": "gpu-performance",
    "scikit-learn": "classical-ml",
    "tabular-data": "tabular",
    "dataframe": "data-tooling",
}


def discover_repos(
    db: Database, settings: Settings, client: GitHubClient, *, limit: int = 30
) -> list[RepoMetaRecord]:
    """Repositories by GitHub topic (REST search, conditional on the last ETag per topic)."""
    topics = settings.github.discover_topics
    if not topics:
        return []
    stored = {
        t: get_discovery(db, f"topic:{t}:{settings.github.discover_min_stars}")[0] for t in topics
    }
    etags = {t: e for t, e in stored.items() if e}
    answers = client.rest.discover(
        topics, settings.github.discover_min_stars, limit=limit, etags=etags
    )
    found: dict[str, RepoMetaRecord] = {}
    for topic, answer in answers.items():
        key = f"topic:{topic}:{settings.github.discover_min_stars}"
        if answer.not_modified:
            _, cached = get_discovery(db, key)
            metas = [RepoMeta(**{**m, "topics": tuple(m.get("topics", ()))}) for m in cached]
        else:
            metas = list(answer.data)
            put_discovery(db, key, answer.etag, [asdict(m) for m in metas])
        for meta in metas:
            if not meta.archived:
                found.setdefault(meta.repo, _discovered(meta))
    return list(found.values())


def _discovered(meta: RepoMeta) -> RepoMetaRecord:
    """A repository found by topic, with the niches its topics name."""
    niches = tuple(dict.fromkeys(TOPIC_NICHES[t] for t in meta.topics if t in TOPIC_NICHES))
    return RepoMetaRecord(
        meta.repo,
        meta.description,
        meta.stars,
        meta.language,
        meta.topics,
        niches,
        False,
        "discovered",
    )


def sync_targets(
    catalog: Catalog, repos: Sequence[str] | None
) -> tuple[list[str], dict[str, tuple[str, ...]]]:
    """The repositories to sync, each once, in the catalogue's spelling, and their niches."""
    niches = {r.repo: r.niches for r in catalog.repos}
    # GitHub names are case-insensitive: "ACME/Vision" is the catalogue's "acme/vision"
    spelled = {r.repo.lower(): r.repo for r in catalog.repos}
    wanted = repos if repos is not None else [r.repo for r in catalog.repos]
    targets = list(
        {spelled.get(r.lower(), r).lower(): spelled.get(r.lower(), r) for r in wanted}.values()
    )
    return targets, niches


def add_discovered(
    db: Database,
    settings: Settings,
    client: GitHubClient,
    targets: list[str],
    niches: dict[str, tuple[str, ...]],
) -> None:
    """Append the repositories found by topic that are not targets yet, and remember them."""
    for record in discover_repos(db, settings, client):
        if record.repo.lower() not in {t.lower() for t in targets}:
            targets.append(record.repo)
            niches[record.repo] = record.niches
            save_repo_meta(db, record)
