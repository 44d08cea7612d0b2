"""Bulk issue fetching with GitHub GraphQL: many repositories per query (aliases), 100 issues a page.

One query asks, for each repository of a batch, one page of its beginner-labelled issues with
everything the ranking needs (labels, assignees, comment count and the last comments, reactions,
timestamps, linked and closing pull requests) plus the repository's metadata, and
`rateLimit { cost remaining resetAt }` so every answer reports what it cost.

Label filter: GitHub matches `filterBy.labels` by exact name with OR semantics, and beginner labels
vary between projects ("good first issue", "good-first-issue", "E-easy", ...). We send every name
of config/labels.yaml in one `$labels` list: one query finds the issues under any spelling, and
the strength of the label is applied later from the same catalogue. Issues whose only beginner
label is a spelling we do not list are not fetched; adding the spelling to labels.yaml fixes that.

Two kinds of pass per repository:
- full (first sync, or `--full`): `states: [OPEN]`, newest first (UPDATED_AT DESC), so a capped
  repository keeps its freshest issues;
- incremental: `since: <watermark>` in any state, oldest change first (UPDATED_AT ASC), so closed
  issues come back once and a pass stopped by the cap or a crash continues where it stopped.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from matcher.errors import GitHubError, MalformedResponseError
from matcher.github.parse import RateInfo, parse_rate_limit
from matcher.github.transport import Transport

log = logging.getLogger(__name__)

PAGE_SIZE = 100
_ALIAS = re.compile(r"^r\d+$")
PROBE_PAGE_SIZE = 20  # first page of an incremental pass: usually nothing changed, so ask small

FRAGMENTS = """
fragment RepoFields on Repository {
  nameWithOwner
  description
  stargazerCount
  isArchived
  primaryLanguage { name }
  repositoryTopics(first: 20) { nodes { topic { name } } }
}
fragment IssueFields on Issue {
  number
  url
  title
  body
  state
  createdAt
  updatedAt
  author { login }
  labels(first: 20) { nodes { name } }
  assignees(first: 5) { nodes { login } }
  comments(last: 5) { totalCount nodes { body createdAt author { login } } }
  reactions { totalCount }
  closedByPullRequestsReferences(first: 5, includeClosedPrs: false) { nodes { url state } }
  timelineItems(last: 10, itemTypes: [CONNECTED_EVENT, CROSS_REFERENCED_EVENT]) {
    nodes {
      __typename
      ... on ConnectedEvent { subject { __typename ... on PullRequest { url state } } }
      ... on CrossReferencedEvent { source { __typename ... on PullRequest { url state } } }
    }
  }
}
"""


@dataclass(frozen=True)
class RepoRequest:
    """One page to ask for one repository."""

    repo: str
    after: str | None = None
    since: datetime | None = None  # None: a full pass over open issues
    first: int = PAGE_SIZE


@dataclass
class RepoPage:
    """What one query answered for one repository: raw issue nodes, or an error for that repo."""

    repo: str
    nodes: list[dict] = field(default_factory=list)
    meta: dict | None = None
    has_next: bool = False
    end_cursor: str | None = None
    total: int | None = None
    error: str | None = None


@dataclass
class BatchAnswer:
    pages: list[RepoPage]
    rate: RateInfo


def _split(repo: str) -> tuple[str, str]:
    owner, _, name = repo.partition("/")
    if not owner or not name or "/" in name:
        raise GitHubError(f"not a repository name: {repo!r} (expected owner/name)")
    return owner, name


def build_query(
    requests: Sequence[RepoRequest], labels: Sequence[str]
) -> tuple[str, dict[str, Any]]:
    """The aliased query for a batch, and its variables."""
    declared = ["$labels: [String!]"]
    variables: dict[str, Any] = {"labels": list(labels)}
    parts = []
    for i, req in enumerate(requests):
        owner, name = _split(req.repo)
        declared.append(f"$after{i}: String")
        variables[f"after{i}"] = req.after
        if req.since is None:
            filters = "{labels: $labels, states: [OPEN]}"
            order = "{field: UPDATED_AT, direction: DESC}"
        else:
            declared.append(f"$since{i}: DateTime")
            variables[f"since{i}"] = req.since.isoformat().replace("+00:00", "Z")
            filters = f"{{labels: $labels, since: $since{i}}}"
            order = "{field: UPDATED_AT, direction: ASC}"
        parts.append(
            f"  r{i}: repository(owner: {json.dumps(owner)}, name: {json.dumps(name)}) {{\n"
            f"    ...RepoFields\n"
            f"    issues(first: {int(req.first)}, after: $after{i}, filterBy: {filters}, orderBy: {order}) {{\n"
            f"      totalCount\n"
            f"      pageInfo {{ hasNextPage endCursor }}\n"
            f"      nodes {{ ...IssueFields }}\n"
            f"    }}\n"
            f"  }}"
        )
    query = (
        f"query BeginnerIssues({', '.join(declared)}) {{\n"
        "  rateLimit { cost remaining resetAt }\n" + "\n".join(parts) + "\n}\n" + FRAGMENTS
    )
    return query, variables


class GraphQLClient:
    """Sends GraphQL queries (the batched issue query above all) through the shared transport."""

    def __init__(self, transport: Transport, url: str):
        self.transport = transport
        self.url = url

    def query(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """Run any query; returns the whole answer ({data, errors}); counts its rateLimit cost."""
        for _ in range(3):
            answer = self.transport.post_json(
                self.url, {"query": query, "variables": variables or {}}
            )
            if not isinstance(answer, dict):
                raise MalformedResponseError("GitHub GraphQL: the answer is not a JSON object")
            data = answer.get("data")
            if isinstance(data, dict) and isinstance(data.get("rateLimit"), dict):
                rate = parse_rate_limit(data["rateLimit"])
                self.transport.note_graphql_rate(rate.cost, rate.remaining, rate.reset_at)
            errors = answer.get("errors") or []
            if any(isinstance(e, dict) and e.get("type") == "RATE_LIMITED" for e in errors):
                # GitHub answers 200 with RATE_LIMITED; the transport waits for the reset (or raises).
                log.warning("GraphQL rate limit reached; waiting for the reset")
                self.transport.mark_exhausted("graphql")
                continue
            return answer
        raise GitHubError("GitHub GraphQL: rate limited three times in a row; try again later")

    def issue_pages(self, requests: Sequence[RepoRequest], labels: Sequence[str]) -> BatchAnswer:
        """One page of issues for each repository of the batch, in one HTTP request."""
        if not requests:
            return BatchAnswer([], RateInfo(0, None, None))
        query, variables = build_query(requests, tuple(dict.fromkeys(labels)))
        answer = self.query(query, variables)
        data = answer.get("data")
        errors = [e for e in answer.get("errors") or [] if isinstance(e, dict)]
        if not isinstance(data, dict):
            # Errors of the query itself (syntax, unknown field): no repository got an answer.
            first = errors[0].get("message") if errors else "the answer has no data"
            raise GitHubError(f"GitHub GraphQL: {str(first)[:200]}")
        by_alias: dict[str, str] = {}
        for err in errors:
            path = err.get("path") or []
            if path and isinstance(path[0], str) and _ALIAS.match(path[0]):
                by_alias.setdefault(path[0], str(err.get("message") or err.get("type") or "error"))
            else:
                raise GitHubError(f"GitHub GraphQL: {str(err.get('message'))[:200]}")
        rate = parse_rate_limit(data.get("rateLimit"))
        pages = [
            _page(req.repo, data.get(f"r{i}"), by_alias.get(f"r{i}"))
            for i, req in enumerate(requests)
        ]
        return BatchAnswer(pages, rate)


def _page(repo: str, block: Any, error: str | None) -> RepoPage:
    if block is None:
        return RepoPage(repo, error=(error or "repository not found")[:200])
    if not isinstance(block, dict):
        return RepoPage(repo, error="malformed answer: repository is not an object")
    issues = block.get("issues")
    info = issues.get("pageInfo") if isinstance(issues, dict) else None
    nodes = issues.get("nodes") if isinstance(issues, dict) else None
    if (
        not isinstance(info, dict)
        or not isinstance(nodes, list)
        or not isinstance(info.get("hasNextPage"), bool)
    ):
        return RepoPage(repo, error="malformed answer: issues connection lacks pageInfo or nodes")
    cursor = info.get("endCursor")
    if info["hasNextPage"] and not isinstance(cursor, str):
        return RepoPage(repo, error="malformed answer: hasNextPage without endCursor")
    meta = {k: v for k, v in block.items() if k != "issues"}
    total = issues.get("totalCount")
    return RepoPage(
        repo,
        nodes=nodes,
        meta=meta,
        has_next=info["hasNextPage"],
        end_cursor=cursor,
        total=total if isinstance(total, int) else None,
        error=error,
    )
