"""The welcoming signal (issue 13): how a repository treats first-time contributors.

One small query per repository: its 50 newest pull requests (author association, opened, merged),
its most recently merged one, and its 20 newest issues with their first comments (who answered,
when). It costs 1 point; the sync asks it at most weekly.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from statistics import median
from typing import Any

from matcher.errors import GitHubError, MalformedResponseError
from matcher.github.graphql import GraphQLClient, _split
from matcher.github.parse import MAINTAINER_ASSOCIATIONS, RateInfo, parse_rate_limit
from matcher.models import Welcome

RECENT_PRS = 50
WINDOW_DAYS = 182  # "the last 6 months"
RECENT_ISSUES = 20
FIRST_COMMENTS = 10
NEWCOMER_ASSOCIATIONS = frozenset({"FIRST_TIME_CONTRIBUTOR", "FIRST_TIMER", "NONE"})


def build_welcome_query(repo: str) -> tuple[str, dict[str, Any]]:
    """The query for one repository's recent pull requests and its last merge."""
    owner, name = _split(repo)
    query = (
        "query Welcome($owner: String!, $name: String!) {\n"
        "  rateLimit { cost remaining resetAt }\n"
        "  repository(owner: $owner, name: $name) {\n"
        f"    recent: pullRequests(first: {RECENT_PRS},"
        " orderBy: {field: CREATED_AT, direction: DESC}) {\n"
        "      nodes { authorAssociation createdAt mergedAt }\n"
        "    }\n"
        "    lastMerged: pullRequests(first: 1, states: [MERGED],"
        " orderBy: {field: UPDATED_AT, direction: DESC}) {\n"
        "      nodes { mergedAt }\n"
        "    }\n"
        f"    newIssues: issues(first: {RECENT_ISSUES},"
        " orderBy: {field: CREATED_AT, direction: DESC}) {\n"
        "      nodes {\n"
        "        createdAt authorAssociation\n"
        f"        comments(first: {FIRST_COMMENTS}) {{ nodes {{ createdAt authorAssociation }} }}\n"
        "      }\n"
        "    }\n"
        "  }\n"
        "}\n"
    )
    return query, {"owner": owner, "name": name}


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


def fetch_welcome(
    client: GraphQLClient, repo: str, fetched_at: datetime
) -> tuple[Welcome, RateInfo]:
    """Ask GitHub for one repository's welcome figures; the answer's cost comes with them."""
    query, variables = build_welcome_query(repo)
    answer = client.query(query, variables)
    data = answer.get("data")
    if not isinstance(data, dict) or data.get("repository") is None:
        errors = answer.get("errors") or [{}]
        message = errors[0].get("message") if isinstance(errors[0], dict) else errors[0]
        raise GitHubError(f"GitHub GraphQL: welcome figures of {repo}: {json.dumps(message)[:200]}")
    return parse_welcome(data["repository"], fetched_at), parse_rate_limit(data.get("rateLimit"))
