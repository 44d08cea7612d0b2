"""The shipped catalogue: beginner labels and strengths, hard labels, claim phrases, repos."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from matcher.errors import ConfigError
from matcher.settings import CONFIG_DIR, read_yaml

_SEPARATORS = re.compile(r"[\s\-_/:]+")
_EMOJI_CODE = re.compile(r":[a-z0-9_+\-]+:")


@lru_cache(maxsize=8192)  # the ranking asks for every label of every issue; few are distinct
def normalize_label(name: str) -> str:
    """'Good-First_Issue :baby:' -> 'good first issue'; separators and emoji codes do not matter."""
    text = _EMOJI_CODE.sub(" ", name.lower())
    text = "".join(ch for ch in text if ch.isalnum() or ch in " -_/:")
    return _SEPARATORS.sub(" ", text).strip()


@dataclass(frozen=True, eq=False)
class Labels:
    """Which labels mark a newcomer issue (and how strongly), which mark a hard one."""

    strengths: dict[str, float]
    hard: frozenset[str]
    claim_phrases: tuple[str, ...] = ()
    stale: frozenset[str] = frozenset()  # labels a project (or its stale bot) puts on idle issues
    names: tuple[
        str, ...
    ] = ()  # beginner labels as spelled in labels.yaml (GitHub filters by exact name)

    def beginner_strength(self, labels: tuple[str, ...] | list[str]) -> float:
        """Strength of the best beginner label on an issue, 0 when it has none."""
        return max((self.strengths.get(normalize_label(x), 0.0) for x in labels), default=0.0)

    def best_beginner_label(self, labels) -> str | None:
        best = max(labels, key=lambda x: self.strengths.get(normalize_label(x), 0.0), default=None)
        return (
            best
            if best is not None and self.strengths.get(normalize_label(best), 0.0) > 0
            else None
        )

    def is_hard(self, labels) -> bool:
        return any(normalize_label(x) in self.hard for x in labels)

    def stale_label(self, labels) -> str | None:
        """The first label marking the issue inactive ('stale', 'lifecycle/rotten'), as spelled."""
        return next((x for x in labels if normalize_label(x) in self.stale), None)

    def is_claim(self, comment: str) -> bool:
        """Whether a comment says its author takes the issue ("can I work on this?", "/assign")."""
        text = " ".join(comment.lower().replace("\u2019", "'").split())
        return any(phrase in text for phrase in self.claim_phrases)


@dataclass(frozen=True)
class RepoEntry:
    repo: str
    niches: tuple[str, ...] = ()
    language: str | None = None


@dataclass(frozen=True, eq=False)
class Catalog:
    """The labels, the repositories to sync, and the wider ecosystem's niches by repository."""

    labels: Labels
    repos: tuple[RepoEntry, ...] = field(default=())
    # repository (lower case) -> niches, from config/ecosystem.yaml (scripts/build_ecosystem.py)
    ecosystem: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _niches: dict[str, tuple[str, ...]] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        curated = {r.repo.lower(): r.niches for r in self.repos if r.niches}
        self._niches.update({**self.ecosystem, **curated})

    def niches_of(self, repo: str) -> tuple[str, ...]:
        """A repository's niches: the curated list's, else the ecosystem catalogue's, else none."""
        return self._niches.get(repo.lower(), ())


def load_labels(path: Path | None = None) -> Labels:
    path = path or CONFIG_DIR / "labels.yaml"
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("beginner_labels"), list):
        raise ConfigError(f"{path}: key 'beginner_labels' must be a list of {{name, strength}}")
    strengths: dict[str, float] = {}
    names: dict[str, None] = {}
    for i, entry in enumerate(data["beginner_labels"]):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            raise ConfigError(f"{path}: key 'beginner_labels[{i}]' needs a 'name' string")
        strength = entry.get("strength", 1.0)
        if not isinstance(strength, int | float) or not 0 <= strength <= 1:
            raise ConfigError(
                f"{path}: key 'beginner_labels[{i}].strength' must be a number from 0 to 1"
            )
        strengths[normalize_label(entry["name"])] = float(strength)
        names[entry["name"]] = None
    hard = frozenset(normalize_label(str(x)) for x in data.get("hard_labels") or [])
    phrases = tuple(str(x).lower() for x in data.get("claim_phrases") or [])
    stale = frozenset(normalize_label(str(x)) for x in data.get("stale_labels") or [])
    return Labels(
        strengths=strengths, hard=hard, claim_phrases=phrases, names=tuple(names), stale=stale
    )


def load_repos(path: Path | None = None) -> tuple[RepoEntry, ...]:
    path = path or CONFIG_DIR / "repos.yaml"
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("repos"), list):
        raise ConfigError(f"{path}: key 'repos' must be a list of {{repo, niches}}")
    entries = []
    for i, entry in enumerate(data["repos"]):
        name = entry.get("repo") if isinstance(entry, dict) else None
        if not isinstance(name, str) or name.count("/") != 1:
            raise ConfigError(f"{path}: key 'repos[{i}].repo' must be 'owner/name'")
        niches = entry.get("niches") or []
        if not isinstance(niches, list):
            raise ConfigError(f"{path}: key 'repos[{i}].niches' must be a list")
        entries.append(RepoEntry(name, tuple(str(n) for n in niches), entry.get("language")))
    return tuple(entries)


def load_ecosystem(path: Path | None = None) -> dict[str, tuple[str, ...]]:
    """Repository (lower case) -> niches from the ecosystem catalogue; {} without the file."""
    path = path or CONFIG_DIR / "ecosystem.yaml"
    if not path.exists():
        return {}
    data = read_yaml(path)
    if not isinstance(data, dict) or not isinstance(data.get("repos"), list):
        raise ConfigError(f"{path}: key 'repos' must be a list of {{repo, niches}}")
    out: dict[str, tuple[str, ...]] = {}
    for i, entry in enumerate(data["repos"]):
        name = entry.get("repo") if isinstance(entry, dict) else None
        niches = entry.get("niches") if isinstance(entry, dict) else None
        if not isinstance(name, str) or name.count("/") != 1 or not isinstance(niches, list):
            raise ConfigError(f"{path}: key 'repos[{i}]' needs 'repo: owner/name' and niches")
        out[name.lower()] = tuple(str(n) for n in niches)
    return out


@lru_cache(maxsize=4)
def load_catalog(config_dir: Path = CONFIG_DIR) -> Catalog:
    """Labels, repositories and the ecosystem's niches from a config directory (cached)."""
    return Catalog(
        load_labels(config_dir / "labels.yaml"),
        load_repos(config_dir / "repos.yaml"),
        load_ecosystem(config_dir / "ecosystem.yaml"),
    )
