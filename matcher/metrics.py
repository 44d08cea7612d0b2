"""Every Prometheus metric the bot and the CLI expose, defined once (prometheus-client).

Nothing is served unless a process asks: `serve(port)` starts the /metrics endpoint (the bot does
when BOT_METRICS_PORT is set). The counters exist either way, so recording costs a lock and an add.
matcher never imports discord: the bot passes plain strings (command name, outcome).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIServer

from prometheus_client import Counter, Gauge, Histogram, start_http_server

if TYPE_CHECKING:
    from matcher.engine import MatchEngine

log = logging.getLogger(__name__)

# Discord wants an acknowledgement within 3 s: the buckets are dense around it.
ACK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 10.0)
ANSWER_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0, 120.0)

INTERACTIONS = Counter(
    "matcher_interactions",
    "Interactions answered, by command (or button action) and outcome",
    ["command", "outcome"],
)
ACK_SECONDS = Histogram(
    "matcher_interaction_ack_seconds",
    "From the interaction's creation to its acknowledgement (response or defer)",
    ["command"],
    buckets=ACK_BUCKETS,
)
ANSWER_SECONDS = Histogram(
    "matcher_interaction_answer_seconds",
    "From the interaction's creation to the answer the user reads",
    ["command"],
    buckets=ANSWER_BUCKETS,
)
RANKING_QUEUE = Gauge(
    "matcher_ranking_queue_depth", "Rankings waiting for or running on the ranking executor"
)
RANKING_REJECTED = Counter(
    "matcher_ranking_rejected", "Rankings refused because the ranking queue was full (busy)"
)
STORE_UNAVAILABLE = Gauge(
    "matcher_store_unavailable", "1 while the store cannot be reached (an outage), else 0"
)
DIGEST_PASSES = Counter(
    "matcher_digest_passes", "Digest passes, by outcome (ok, failed, skipped)", ["outcome"]
)
DIGESTS = Counter(
    "matcher_digests",
    "Digests handled by a pass, by outcome (dm, channel, empty, failed, error, retry, released)",
    ["outcome"],
)
DIGEST_PASS_SECONDS = Histogram(
    "matcher_digest_pass_seconds",
    "Duration of one digest pass (plan, rank, send, record)",
    buckets=(1, 5, 15, 30, 60, 120, 300, 600, 1800),
)
LAST_DIGEST_PASS = Gauge(
    "matcher_digest_last_pass_timestamp_seconds", "When the last digest pass ended (Unix time)"
)
SYNC_REQUESTS = Counter("matcher_sync_requests", "GitHub requests made by syncs", ["api"])
SYNC_POINTS = Counter("matcher_sync_points", "GitHub GraphQL rate-limit points spent by syncs")
SYNC_ERRORS = Counter("matcher_sync_errors", "Syncs or repositories that failed, by kind", ["kind"])
INDEX_ISSUES = Gauge("matcher_index_issues", "Open issues in the warm ranking index")
INDEX_REFRESH_AGE = Gauge(
    "matcher_index_refresh_age_seconds",
    "Seconds since the warm ranking index last checked the store for changes",
)


def interaction(command: str, outcome: str) -> None:
    """Count one answered interaction."""
    INTERACTIONS.labels(command=command, outcome=outcome).inc()


def acknowledged(command: str, seconds: float) -> None:
    ACK_SECONDS.labels(command=command).observe(max(seconds, 0.0))


def answered(command: str, seconds: float) -> None:
    ANSWER_SECONDS.labels(command=command).observe(max(seconds, 0.0))


def digest_pass(outcome: str, seconds: float, outcomes: dict[str, int]) -> None:
    """Record one digest pass and what happened to each digest in it."""
    DIGEST_PASSES.labels(outcome=outcome).inc()
    DIGEST_PASS_SECONDS.observe(seconds)
    LAST_DIGEST_PASS.set(time.time())
    for name, count in outcomes.items():
        DIGESTS.labels(outcome=name).inc(count)


def record_sync(report: Any) -> None:
    """Record what one sync run cost GitHub (a SyncReport; the CLI's `sync` calls this)."""
    SYNC_REQUESTS.labels(api="graphql").inc(getattr(report, "graphql_requests", 0))
    SYNC_REQUESTS.labels(api="rest").inc(getattr(report, "rest_requests", 0))
    SYNC_POINTS.inc(getattr(report, "graphql_points", 0))  # welcome points are counted in it
    failed = len(getattr(report, "repos_failed", {}) or {})
    if failed:
        SYNC_ERRORS.labels(kind="repository").inc(failed)


def sync_failed(kind: str) -> None:
    """Count a sync run that stopped with an error (kind: the error's class name)."""
    SYNC_ERRORS.labels(kind=kind).inc()


def watch_index(engine: MatchEngine) -> None:
    """Report the engine's warm index size and the age of its last change at every scrape (0
    before it is built); read at scrape time, so never older than the scrape."""

    def issues() -> float:
        return float(engine.index_status()[0])

    def age() -> float:
        refreshed_at = engine.index_status()[1]
        return 0.0 if refreshed_at is None else max(time.time() - refreshed_at, 0.0)

    INDEX_ISSUES.set_function(issues)
    INDEX_REFRESH_AGE.set_function(age)


class MetricsServer:
    """The /metrics endpoint on its own thread; `stop()` closes the socket."""

    def __init__(self, server: WSGIServer, thread: threading.Thread):
        self._server = server
        self._thread = thread

    @property
    def port(self) -> int:
        return int(self._server.server_port)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def serve(port: int, addr: str = "0.0.0.0") -> MetricsServer:
    """Start the Prometheus endpoint (port 0: any free port, for tests)."""
    server, thread = start_http_server(port, addr=addr)
    log.info("metrics at http://%s:%d/metrics", addr, server.server_port)
    return MetricsServer(server, thread)
