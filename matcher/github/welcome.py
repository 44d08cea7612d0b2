"""The welcoming signal (issue 13): how a repository treats first-time contributors.

Per repository: its 50 newest pull requests (author association, opened, merged), its most
recently merged one, and its 20 newest issues with their first comments (who answered, when).
That is 23 connections and 271 nodes a repository; several repositories share one query
(aliases, `github.welcome_repos_per_query`). GitHub's cost formula (connections / 100, rounded,
at least 1 point) makes 6 repositories (138 connections, 1,626 nodes) the most a 1-point query
holds; the sync asks each repository at most weekly.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from matcher.errors import MalformedResponseError
from matcher.github.graphql import GraphQLClient, _split
from matcher.github.parse import MAINTAINER_ASSOCIATIONS, RateInfo
from matcher.models import Welcome

RECENT_PRS = 50
WINDOW_DAYS = 182  # "the last 6 months"
RECENT_ISSUES = 20
FIRST_COMMENTS = 10
NEWCOMER_ASSOCIATIONS = frozenset({"FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "NONE"})


WELCOME_FRAGMENT = f"""
fragment WelcomeFields on Repository {{
  recent: pullRequests(first: {RECENT_PRS}, orderBy: {{field: CREATED_AT, direction: DESC}}) {{
    nodes {{ authorAssociation createdAt mergedAt }}
  }}
  lastMerged: pullRequests(first: 1, states: [MERGED],
                           orderBy: {{field: UPDATED_AT, direction: DESC}}) {{
    nodes {{ mergedAt }}
  }}
  newIssues: issues(first: {RECENT_ISSUES}, orderBy: {{field: CREATED_AT, direction: DESC}}) {{
    nodes {{
      createdAt authorAssociation
      comments(first: {FIRST_COMMENTS}) {{ nodes {{ createdAt authorAssociation }} }}
    }}
  }}
}}
"""


def build_welcome_query(repos: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """One query for the welcoming figures of several repositories (aliases r0, r1, ...)."""
    parts = []
    for i, repo in enumerate(repos):
        owner, name = _split(repo)
        parts.append(
            f"  r{i}: repository(owner: {json.dumps(owner)}, name: {json.dumps(name)})"
            " { ...WelcomeFields }"
        )
    query = (
        "query Welcome {\n  rateLimit { cost remaining resetAt }\n"
        + "\n".join(parts)
        + "\n}\n"
        + WELCOME_FRAGMENT
    )
    return query, {}


def _when(value: Any, what: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise MalformedResponseError(f"GitHub GraphQL: {what} is not a timestamp: {value!r:.60}")
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedResponseError(
            f"GitHub GraphQL: {what} is not a timestamp: {value!r:.60}"
        ) from None


def _nodes(block: dict, key: str) -> list[dict]:
    connection = block.get(key)
    nodes = connection.get("nodes") if isinstance(connection, dict) else None
    if not isinstance(nodes, list):
        raise MalformedResponseError(f"GitHub GraphQL: the answer lacks {key}.nodes")
    return [n for n in nodes if isinstance(n, dict)]


def parse_welcome(repository: Any, fetched_at: datetime) -> Welcome:
    """The Welcome figures from the `repository` block of the answer."""
    if not isinstance(repository, dict):
        raise MalformedResponseError("GitHub GraphQL: the welcome answer has no repository")
    since = fetched_at - timedelta(days=WINDOW_DAYS)
    opened = merged = 0
    merge_days: list[float] = []
    for node in _nodes(repository, "recent"):
        created = _when(node.get("createdAt"), "createdAt")
        if node.get("authorAssociation") not in NEWCOMER_ASSOCIATIONS:
            continue
        if created is None or created < since:
            continue
        opened += 1
        merged_at = _when(node.get("mergedAt"), "mergedAt")
        if merged_at is not None:
            merged += 1
            merge_days.append(max((merged_at - created).total_seconds() / 86400, 0.0))
    last = _nodes(repository, "lastMerged")
    replies = _first_replies(repository, since)
    return Welcome(
        newcomer_prs=opened,
        newcomer_merged=merged,
        median_merge_days=round(median(merge_days), 2) if merge_days else None,
        last_merged_at=_when(last[0].get("mergedAt"), "mergedAt") if last else None,
        fetched_at=fetched_at,
        window_days=WINDOW_DAYS,
        median_reply_days=round(median(replies), 2) if replies else None,
    )


def _first_replies(repository: dict, since: datetime) -> list[float]:
    """Days until a maintainer first commented, for each recent issue a non-maintainer opened
    that a maintainer answered (unanswered issues are not in the median)."""
    if "newIssues" not in repository:  # an answer from before the field was asked
        return []
    days = []
    for node in _nodes(repository, "newIssues"):
        created = _when(node.get("createdAt"), "createdAt")
        if created is None or created < since:
            continue
        if node.get("authorAssociation") in MAINTAINER_ASSOCIATIONS:
            continue
        for comment in _nodes(node, "comments"):
            if comment.get("authorAssociation") in MAINTAINER_ASSOCIATIONS:
                answered = _when(comment.get("createdAt"), "createdAt")
                if answered is not None:
                    days.append(max((answered - created).total_seconds() / 86400, 0.0))
                break
    return days


@dataclass
class WelcomeBatch:
    """What one welcoming query answered, per repository."""

    figures: dict[str, Welcome] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)  # repository -> why, one line
    heavy: list[str] = field(default_factory=list)  # GitHub gave up on these: ask them smaller
    rate: RateInfo = field(default_factory=lambda: RateInfo(0, None, None))


def fetch_welcome(
    client: GraphQLClient, repos: Sequence[str], fetched_at: datetime, *, shrinkable: bool = False
) -> WelcomeBatch:
    """Ask GitHub for the welcome figures of several repositories in one query.

    An error for one repository (not found, a malformed block) fails that repository only.
    Raises QueryTooHeavy when GitHub gave up on the whole query and it can be asked smaller.
    """
    batch = WelcomeBatch()
    if not repos:
        return batch
    query, variables = build_welcome_query(repos)
    reply = client.aliased(query, variables, len(repos), shrinkable=shrinkable)
    batch.rate = reply.rate
    for i, repo in enumerate(repos):
        block = reply.data.get(f"r{i}")
        if block is None and reply.heavy:
            batch.heavy.append(repo)
            continue
        if block is None:
            error = reply.errors.get(f"r{i}") or "repository not found"
            batch.failed[repo] = f"GitHub GraphQL: welcome figures of {repo}: {error}"[:200]
            continue
        try:
            batch.figures[repo] = parse_welcome(block, fetched_at)
        except MalformedResponseError as exc:
            batch.failed[repo] = f"{repo}: {exc}"[:200]
    return batch
