"""The diversity step: the best issues with at most a few from one repository, found without a
full sort of the pool."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

CANDIDATES = 300  # the diversity cap looks only at this many best issues (unless it runs dry)


def diversify(
    order: Sequence[int], repos: Sequence[str], max_per_repo: int, top_k: int
) -> list[int]:
    """Take the best issues, at most `max_per_repo` from one repository while others remain."""
    chosen: list[int] = []
    overflow: list[int] = []
    per_repo: dict[str, int] = {}
    for index in order:
        repo = repos[index]
        if per_repo.get(repo, 0) < max_per_repo:
            chosen.append(index)
            per_repo[repo] = per_repo.get(repo, 0) + 1
        else:
            overflow.append(index)
        if len(chosen) == top_k:
            return chosen
    return (chosen + overflow)[:top_k]


@dataclass(frozen=True)
class Selection:
    """select's answer: the chosen positions, and the lowest score its candidates reached (-inf
    when it walked every eligible issue): a score below `edge` could not have been chosen."""

    chosen: list[int]
    edge: float


def select_top(
    score: np.ndarray,
    eligible: np.ndarray | None,
    url_rank: np.ndarray,
    repos: Sequence[str],
    *,
    top_k: int,
    max_per_repo: int,
    diversity: bool = True,
) -> list[int]:
    """Positions of the best `top_k` eligible issues (ties by URL), as a full sort would give.

    `eligible` None: the issues a list may not show score -inf (the scorer's own rows).
    """
    return select(
        score,
        eligible,
        url_rank,
        repos,
        top_k=top_k,
        max_per_repo=max_per_repo,
        diversity=diversity,
    ).chosen


def select(
    score: np.ndarray,
    eligible: np.ndarray | None,
    url_rank: np.ndarray,
    repos: Sequence[str],
    *,
    top_k: int,
    max_per_repo: int,
    diversity: bool = True,
) -> Selection:
    """select_top, with the edge of the candidates it looked at."""
    masked = score if eligible is None else np.where(eligible, score, -np.inf)
    shown = masked > -np.inf
    total = int(np.count_nonzero(shown))
    wanted = min(total, max(CANDIDATES, 3 * top_k))
    if wanted == 0:
        return Selection([], -np.inf)
    edge = -np.inf
    if wanted < total:
        edge = wanted_th_highest(masked, wanted)
        candidates = np.flatnonzero(masked >= edge)  # every tie at the edge comes along
    else:
        candidates = np.flatnonzero(shown)
    order = candidates[np.lexsort((url_rank[candidates], -masked[candidates]))].tolist()
    if not diversity:
        return Selection(order[:top_k], edge)
    chosen = diversify(order, repos, max_per_repo, top_k)
    if len(candidates) < total and not _filled_within_cap(chosen, repos, max_per_repo, top_k):
        everyone = np.flatnonzero(shown)  # one repository crowds the top: walk the whole order
        order = everyone[np.lexsort((url_rank[everyone], -masked[everyone]))].tolist()
        return Selection(diversify(order, repos, max_per_repo, top_k), -np.inf)
    return Selection(chosen, edge)


SAMPLE_EVERY = 16


def wanted_th_highest(values: np.ndarray, wanted: int) -> float:
    """The `wanted`-th highest of `values`, exactly. A strided sample's high values give a
    bound first, so only the values at or above it are partitioned, not the whole pool (the
    pool's partition was a tenth of a digest); when fewer than `wanted` reach the bound, the
    whole pool is."""
    sample = values[::SAMPLE_EVERY]
    # about twice the sample's share of the wanted values, so the bound is rarely above the edge
    k = min(len(sample), 2 * wanted // SAMPLE_EVERY + 8)
    bound = np.partition(sample, len(sample) - k)[len(sample) - k]
    above = values[values >= bound]
    if len(above) < wanted:
        above = values
    return float(np.partition(above, len(above) - wanted)[len(above) - wanted])


def _filled_within_cap(
    chosen: list[int], repos: Sequence[str], max_per_repo: int, top_k: int
) -> bool:
    per_repo = Counter(repos[i] for i in chosen)
    return len(chosen) == top_k and max(per_repo.values(), default=0) <= max_per_repo
