"""The one retry and rate-limit policy of every GitHub request, GraphQL (httpx) and REST (PyGithub).

GitHub's rules, as its REST and GraphQL docs state them:
- primary limit: `x-ratelimit-remaining: 0` (a 403/429, or a GraphQL 200 whose error has type
  `RATE_LIMIT`/`RATE_LIMITED` or code `graphql_rate_limit`): no request before
  `x-ratelimit-reset` (GraphQL: `rateLimit.resetAt`);
- secondary limit (HTTP 403, 429, or a 200 whose GraphQL error says "secondary rate limit"):
  wait `retry-after` seconds, else at least a minute, and longer after each repeat;
- 5xx, timeouts and dropped connections: exponential backoff, a capped number of times;
- a connection that cannot be made at all (DNS, refused) before anything got through: stop at
  once with one line ("cannot reach GitHub at ...: check the network").
A wait longer than `max_wait` is not waited: `RateLimitError` says when to come back.
`sleep` and `clock` are injectable so tests never wait for real.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from matcher.errors import RateLimitError, UnreachableError

log = logging.getLogger(__name__)

SECONDARY_DEFAULT_WAIT = 60.0  # GitHub: "wait for at least one minute" without retry-after
SECONDARY_STREAK_RESET = 900.0  # a secondary limit this long after the last one starts afresh
_RATE_TYPES = {"RATE_LIMIT", "RATE_LIMITED"}


@dataclass
class Stats:
    """What the GitHub traffic of one client cost so far."""

    requests: int = 0
    graphql_requests: int = 0
    rest_requests: int = 0
    not_modified: int = 0
    retries: int = 0
    graphql_points: int = 0
    rate_remaining: int | None = None
    rate_reset: datetime | None = None
    waited_seconds: float = 0.0
    by_resource: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "graphql_requests": self.graphql_requests,
            "rest_requests": self.rest_requests,
            "not_modified": self.not_modified,
            "retries": self.retries,
            "graphql_points": self.graphql_points,
            "rate_limit_remaining": self.rate_remaining,
            "rate_limit_reset": self.rate_reset.isoformat() if self.rate_reset else None,
            "waited_seconds": round(self.waited_seconds, 3),
        }


def is_secondary_message(message: str | None) -> bool:
    lowered = (message or "").lower()
    return "secondary rate limit" in lowered or "abuse" in lowered


def graphql_rate_error(errors: list[dict]) -> str | None:
    """'primary' or 'secondary' when a GraphQL answer's errors say a rate limit was hit."""
    for err in errors:
        if is_secondary_message(str(err.get("message") or "")):
            return "secondary"
        if err.get("type") in _RATE_TYPES or err.get("code") == "graphql_rate_limit":
            return "primary"
    return None


class RetryPolicy:
    """Decides how long to wait before the next try, and waits; shared by both HTTP stacks."""

    def __init__(
        self,
        *,
        max_retries: int = 5,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        max_wait: float = 900.0,
        secondary_wait: float = SECONDARY_DEFAULT_WAIT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ):
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.max_wait = max_wait
        self.secondary_wait = secondary_wait
        self.sleep = sleep
        self.clock = clock
        self.stats = Stats()
        self.connected = False  # True once any request got an answer
        self._limits: dict[str, tuple[int, float]] = {}  # resource -> (remaining, reset epoch)
        self._secondary_streak = 0
        self._last_secondary = 0.0

    # -- decisions ----------------------------------------------------------------------------

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter for 5xx, timeouts and dropped connections."""
        delay = min(self.backoff_cap, self.backoff_base * (2**attempt))
        return delay * random.uniform(0.75, 1.0)

    def secondary_delay(self, retry_after: float | None) -> float:
        """retry-after, else a minute; doubled for each secondary limit in a row (GitHub asks)."""
        now = self.clock()
        if now - self._last_secondary > SECONDARY_STREAK_RESET:
            self._secondary_streak = 0
        self._last_secondary = now
        base = retry_after if retry_after is not None else self.secondary_wait
        delay = base * (2**self._secondary_streak)
        self._secondary_streak += 1
        return delay

    def reset_delay(self, reset_epoch: float | None) -> float:
        """Seconds until a primary limit resets (one extra second for clock skew)."""
        reset = reset_epoch if reset_epoch else self.clock() + self.secondary_wait
        return max(1.0, reset - self.clock() + 1)

    def http_rate_limit(self, status: int, headers: Any, message: str) -> tuple[str, float] | None:
        """(reason, delay) when a 403/429 answer is a rate limit; None for a plain refusal."""
        retry_after = _float(headers.get("retry-after"))
        if headers.get("x-ratelimit-remaining") == "0" and retry_after is None:
            reset = _float(headers.get("x-ratelimit-reset"))
            return f"rate limit exhausted (HTTP {status})", self.reset_delay(reset)
        if retry_after is not None or status == 429 or is_secondary_message(message):
            return f"secondary rate limit (HTTP {status})", self.secondary_delay(retry_after)
        return None

    def succeeded(self) -> None:
        """An answer came back that was no rate limit: the secondary streak ends."""
        self.connected = True
        self._secondary_streak = 0

    # -- waiting ------------------------------------------------------------------------------

    def wait(self, seconds: float, reason: str, where: str, *, rate_limit: bool = True) -> None:
        """Sleep `seconds`; a rate-limit wait longer than `max_wait` raises RateLimitError."""
        if rate_limit and seconds > self.max_wait:
            when = datetime.fromtimestamp(self.clock() + seconds, UTC).strftime("%H:%M UTC")
            raise RateLimitError(
                f"GitHub {where}: {reason}; it would take until {when} "
                f"(more than the {self.max_wait:.0f}s allowed); try again later"
            )
        self.stats.waited_seconds += seconds
        self.sleep(seconds)

    def unreachable(self, base_url: str) -> UnreachableError:
        return UnreachableError(f"cannot reach GitHub at {base_url}: check the network")

    # -- primary limit bookkeeping ------------------------------------------------------------

    def note_limits(self, resource: str, remaining: int | None, reset: float | None) -> None:
        if remaining is None:
            return
        self._limits[resource] = (remaining, float(reset or 0))
        self.stats.by_resource[resource] = remaining
        if resource == "graphql" or self.stats.rate_remaining is None:
            self.stats.rate_remaining = remaining
            if reset:
                self.stats.rate_reset = datetime.fromtimestamp(reset, UTC)

    def mark_exhausted(self, resource: str, reset: float | None) -> None:
        """A rate-limited answer: the next request of `resource` waits for the reset."""
        _, known = self._limits.get(resource, (0, 0.0))
        self._limits[resource] = (0, reset or known or self.clock() + self.secondary_wait)

    def respect_primary_limit(self, resource: str) -> None:
        """Before sending: if the last answer said the budget is spent, wait for the reset."""
        remaining, reset = self._limits.get(resource, (1, 0.0))
        if remaining > 0:
            return
        delay = reset - self.clock() + 1
        if delay > 0:
            log.warning(
                "GitHub %s rate limit exhausted; waiting %.0fs for the reset", resource, delay
            )
            self.wait(delay, "rate limit exhausted", resource)
        self._limits[resource] = (1, 0.0)


def _float(value: Any) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None
