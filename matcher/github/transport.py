"""The httpx transport of every GitHub GraphQL request (sync and portfolio alike).

`Transport.post_json` sends one GraphQL document with the token, counts it, and applies the shared
`RetryPolicy` (policy.py): 5xx, timeouts, dropped connections and truncated JSON are retried
with backoff; 403/429 rate limits wait as GitHub asks; a connection that cannot be made before
anything got through raises `UnreachableError` at once. A query the caller can ask smaller
(`shrinkable=True`) is not resent identically after a 502/504 or a timeout: `QueryTooHeavy`
tells the caller to shrink it. Every httpx exception becomes a `matcher.errors` type with a
one-line message that never contains the token. REST goes through PyGithub (rest.py, pulls.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import httpx

from matcher.errors import AuthError, GitHubError, MalformedResponseError
from matcher.github.policy import RetryPolicy, Stats
from matcher.redact import redact, remember_secret

log = logging.getLogger(__name__)

USER_AGENT = "ml-first-issues-matcher"
HEAVY_STATUSES = (502, 504)  # GitHub's answers to a query that ran past its 10 s budget

__all__ = [
    "HEAVY_STATUSES",
    "QueryTooHeavy",
    "Stats",
    "Transport",
    "USER_AGENT",
    "dumps",
    "said",
]


class QueryTooHeavy(GitHubError):
    """GitHub gave up on a query (502/504, timeout, RESOURCE_LIMITS_EXCEEDED): ask smaller."""


class _Retryable(Exception):
    """Internal: this attempt failed in a way worth another try after `delay` (None: backoff)."""

    def __init__(self, reason: str, delay: float | None = None):
        super().__init__(reason)
        self.reason = reason
        self.delay = delay


class Transport:
    """Authenticated httpx client for GitHub's GraphQL endpoint (or a local fake's)."""

    def __init__(
        self,
        token: str,
        *,
        policy: RetryPolicy | None = None,
        timeout: float = 30.0,
        httpx_transport: httpx.BaseTransport | None = None,
        before_request: Callable[[str, str], None] | None = None,
        **policy_options: Any,
    ):
        self.policy = policy or RetryPolicy(**policy_options)
        self.before_request = before_request
        remember_secret(token)
        self._client = httpx.Client(
            headers={
                "Authorization": f"bearer {token}",
                "Accept": "application/vnd.github+json",
                "User-Agent": USER_AGENT,
                "X-GitHub-Api-Version": "2022-11-28",
            },
            timeout=httpx.Timeout(timeout),
            transport=httpx_transport,
            follow_redirects=True,
        )

    @property
    def stats(self) -> Stats:
        return self.policy.stats

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Transport:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def post_json(self, url: str, payload: dict[str, Any], *, shrinkable: bool = False) -> Any:
        """POST a GraphQL document with retries; returns the decoded JSON answer."""
        attempt = 0
        while True:
            self.policy.respect_primary_limit("graphql")
            try:
                return self._attempt(url, payload, shrinkable)
            except _Retryable as exc:
                if attempt >= self.policy.max_retries:
                    raise self._give_up(url, exc.reason, attempt) from None
                delay = exc.delay if exc.delay is not None else self.policy.backoff(attempt)
                attempt += 1
                self.stats.retries += 1
                log.info(
                    "GitHub %s: %s; retry %d in %.1fs", _where(url), exc.reason, attempt, delay
                )
                self.policy.wait(delay, exc.reason, _where(url), rate_limit=exc.delay is not None)

    def _give_up(self, url: str, reason: str, attempt: int) -> GitHubError:
        if reason.startswith("connection failed"):
            return self.policy.unreachable(_base(url))
        kind = MalformedResponseError if reason.startswith("malformed") else GitHubError
        return kind(f"GitHub {_where(url)}: {reason} (gave up after {attempt} retries)")

    def _attempt(self, url: str, payload: dict[str, Any], shrinkable: bool) -> Any:
        if self.before_request:
            self.before_request("POST", url)
        self.stats.requests += 1
        self.stats.graphql_requests += 1
        try:
            response = self._client.post(url, json=payload)
        except httpx.TimeoutException:
            if shrinkable:
                raise QueryTooHeavy(f"GitHub {_where(url)}: timed out") from None
            raise _Retryable("timed out") from None
        except httpx.ConnectError:
            if not self.policy.connected:  # nothing ever got through: the network is down
                raise self.policy.unreachable(_base(url)) from None
            raise _Retryable("connection failed (ConnectError)") from None
        except httpx.TransportError as exc:
            raise _Retryable(f"connection failed ({exc.__class__.__name__})") from None
        except httpx.HTTPError as exc:  # anything else httpx raises: not worth retrying
            raise GitHubError(f"GitHub {_where(url)}: {exc.__class__.__name__}") from None
        self.policy.connected = True
        self._note_limits(response)
        return self._decode(url, response, shrinkable)

    def _decode(self, url: str, response: httpx.Response, shrinkable: bool) -> Any:
        status = response.status_code
        if status == 401:
            raise AuthError(
                f"GitHub rejected the token ({_message(response) or 'Bad credentials'}); "
                "check GITHUB_TOKEN or GITHUB_TOKEN_FILE"
            )
        if status in (403, 429):
            limited = self.policy.http_rate_limit(status, response.headers, _message(response))
            if limited is None:
                msg = _message(response) or "Forbidden"
                raise GitHubError(f"GitHub {_where(url)}: HTTP {status}: {msg}")
            raise _Retryable(*limited)
        if status in HEAVY_STATUSES and shrinkable:
            raise QueryTooHeavy(f"GitHub {_where(url)}: HTTP {status}")
        if status >= 500:
            raise _Retryable(f"HTTP {status}")
        if status >= 400:
            msg = _message(response)
            raise GitHubError(f"GitHub {_where(url)}: HTTP {status}{': ' + msg if msg else ''}")
        try:
            return response.json() if response.content else None
        except ValueError:
            # A cut-off body is usually a network hiccup; retry it like a 5xx.
            raise _Retryable("malformed JSON in the answer") from None

    def _note_limits(self, response: httpx.Response) -> None:
        remaining = _int(response.headers.get("x-ratelimit-remaining"))
        reset = _int(response.headers.get("x-ratelimit-reset"))
        resource = response.headers.get("x-ratelimit-resource") or "graphql"
        self.policy.note_limits(resource, remaining, reset)

    def note_graphql_rate(self, cost: int, remaining: int | None, reset: float | None) -> None:
        """Record the `rateLimit` block of a GraphQL answer (points, not requests)."""
        self.stats.graphql_points += cost
        self.policy.note_limits("graphql", remaining, reset)


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return ""
    if isinstance(data, dict):
        return said(data.get("message"))
    return ""


def said(message: object) -> str:
    """What a server said in an error, fit for a message: secrets redacted, one line, cut."""
    if not message:
        return ""
    return " ".join(redact(message).split())[:200]


def _where(url: str) -> str:
    return urlsplit(url).path or "/"


def _base(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def dumps(data: Any) -> str:
    """Compact JSON, as sent on the wire."""
    return json.dumps(data, separators=(",", ":"))
