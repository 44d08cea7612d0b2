"""What a sync tells its caller: the report of one run and the progress a front end hears."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Protocol


class SyncProgress(Protocol):
    """What a front end (the CLI's progress bars) hears during a sync."""

    def repo_started(self, repo: str, mode: str) -> None: ...

    def repo_advanced(self, repo: str, fetched: int, total: int | None) -> None: ...

    def repo_finished(self, repo: str, ok: bool, message: str) -> None: ...


class NoProgress:
    """A sync nobody watches."""

    def repo_started(self, repo: str, mode: str) -> None:
        pass

    def repo_advanced(self, repo: str, fetched: int, total: int | None) -> None:
        pass

    def repo_finished(self, repo: str, ok: bool, message: str) -> None:
        pass


@dataclass
class SyncReport:
    """What a sync did and what it cost."""

    repos_ok: list[str] = field(default_factory=list)
    repos_failed: dict[str, str] = field(default_factory=dict)
    added: int = 0
    changed: int = 0
    unchanged: int = 0
    left_pool: int = 0  # issues that were candidates and now are closed, taken or unlisted
    candidates: int = 0  # open, untaken issues of the synced repositories after the sync
    embedded: int = 0
    requests: int = 0
    graphql_requests: int = 0
    rest_requests: int = 0
    not_modified: int = 0
    retries: int = 0
    graphql_points: int = 0
    rate_limit_remaining: int | None = None
    shrinks: int = 0  # times a heavy query was asked again smaller
    repos_per_query: int = 0  # the query size that worked, learned during this run
    issues_per_page: int = 0
    seconds: float = 0.0
    stopped: str | None = None  # why the run stopped early (rate limit), if it did
    welcome_queries: int = 0  # repositories whose welcoming figures were stored this run
    welcome_requests: int = 0  # the queries that asked them (several repositories each)
    welcome_points: int = 0  # what those queries cost (also counted in graphql_points)
    welcome_shrinks: int = 0  # times a heavy welcoming query was asked again smaller
    welcome_repos_per_query: int = 0  # the welcoming query size that worked in this run
    welcome_failed: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)


def add_costs(report: SyncReport, stats: dict) -> None:
    """What the run cost, from the client's counters."""
    for name in (
        "requests",
        "graphql_requests",
        "rest_requests",
        "not_modified",
        "retries",
        "graphql_points",
        "rate_limit_remaining",
    ):
        setattr(report, name, stats[name])
