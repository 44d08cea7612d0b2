"""Bulk issue fetching with GitHub GraphQL: many repositories per query (aliases), pages of issues.

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

from matcher.errors import GitHubError, MalformedResponseError, RateLimitError
from matcher.github.parse import RateInfo, parse_rate_limit
from matcher.github.policy import graphql_rate_error
from matcher.github.transport import QueryTooHeavy, Transport, said

log = logging.getLogger(__name__)

PAGE_SIZE = 100
_ALIAS = re.compile(r"^r\d+$")
PROBE_PAGE_SIZE = 20  # first page of an incremental pass: usually nothing changed, so ask small

REPO_FRAGMENT = """
fragment RepoFields on Repository {
  nameWithOwner
  description
  stargazerCount
  isArchived
  primaryLanguage { name }
  repositoryTopics(first: 20) { nodes { topic { name } } }
}
"""
ISSUE_FRAGMENT = """
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
  comments(last: 5) {
    totalCount
    nodes { body createdAt authorAssociation author { __typename login } }
  }
  reactions(first: 1) { totalCount }
  closedByPullRequestsReferences(first: 5, includeClosedPrs: false) { nodes { url state } }
  timelineItems(
    last: 10
    itemTypes: [CONNECTED_EVENT, DISCONNECTED_EVENT, CROSS_REFERENCED_EVENT]
  ) {
    nodes {
      __typename
      ... on ConnectedEvent { subject { __typename ... on PullRequest { url state } } }
      ... on DisconnectedEvent { subject { __typename ... on PullRequest { url state } } }
      ... on CrossReferencedEvent { source { __typename ... on PullRequest { url state } } }
    }
  }
}
"""
FRAGMENTS = REPO_FRAGMENT + ISSUE_FRAGMENT
CLOSING_REFS_FIRST = 25
_RESOURCE_LIMITS = "RESOURCE_LIMITS_EXCEEDED"


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
    heavy: bool = False  # GitHub gave up on this repository's share: ask again, smaller
    incomplete: list[int] = field(default_factory=list)  # issue numbers with a nested error


@dataclass
class BatchAnswer:
    pages: list[RepoPage]
    rate: RateInfo


@dataclass
class AliasedAnswer:
    """The answer to a query of repository aliases (r0, r1, ...), its errors sorted by alias."""

    data: dict[str, Any]
    errors: dict[str, str]  # the first error message of each alias
    broken: dict[str, set[int]]  # per alias, the issue nodes (by index) with an error inside
    heavy: bool  # GitHub gave up on part of it: aliases without data are to be asked smaller
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
            f"    issues(first: {int(req.first)}, after: $after{i},\n"
            f"           filterBy: {filters}, orderBy: {order}) {{\n"
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

    def query(
        self, query: str, variables: dict[str, Any] | None = None, *, shrinkable: bool = False
    ) -> dict[str, Any]:
        """Run any query; returns the whole answer ({data, errors}); counts its rateLimit cost.

        A rate-limited answer (HTTP 200 with a RATE_LIMIT or secondary-limit error) is waited
        out under the shared policy and the query resent, never answered as data.
        """
        policy = self.transport.policy
        for _ in range(policy.max_retries + 1):
            answer = self.transport.post_json(
                self.url, {"query": query, "variables": variables or {}}, shrinkable=shrinkable
            )
            if not isinstance(answer, dict):
                raise MalformedResponseError("GitHub GraphQL: the answer is not a JSON object")
            data = answer.get("data")
            rate = parse_rate_limit(data.get("rateLimit") if isinstance(data, dict) else None)
            reset = rate.reset_at.timestamp() if rate.reset_at else None
            self.transport.note_graphql_rate(rate.cost, rate.remaining, reset)
            errors = [e for e in answer.get("errors") or [] if isinstance(e, dict)]
            limited = graphql_rate_error(errors)
            if limited is None:
                policy.succeeded()
                return answer
            self.transport.stats.retries += 1
            if limited == "primary":
                # The headers may not say remaining 0: make the next request wait for the reset.
                log.warning("GraphQL rate limit reached; waiting for the reset")
                policy.mark_exhausted("graphql", reset)
            else:
                delay = policy.secondary_delay(None)
                log.warning("GraphQL secondary rate limit; waiting %.0fs", delay)
                policy.wait(delay, "secondary rate limit (GraphQL)", "/graphql")
        raise RateLimitError("GitHub GraphQL: still rate limited after waiting; try again later")

    def issue_pages(
        self, requests: Sequence[RepoRequest], labels: Sequence[str], *, shrinkable: bool = False
    ) -> BatchAnswer:
        """One page of issues for each repository of the batch, in one HTTP request.

        An error inside one issue (path `rN.issues.nodes.K...`) keeps the page: the issue is
        listed in `incomplete` to refetch; only a null repository fails. RESOURCE_LIMITS_EXCEEDED
        marks the repositories that got no data `heavy` (or raises QueryTooHeavy when none did).
        """
        if not requests:
            return BatchAnswer([], RateInfo(0, None, None))
        query, variables = build_query(requests, tuple(dict.fromkeys(labels)))
        reply = self.aliased(query, variables, len(requests), shrinkable=shrinkable)
        pages = [
            _page(
                req.repo,
                reply.data.get(f"r{i}"),
                reply.errors.get(f"r{i}"),
                reply.broken.get(f"r{i}", set()),
                reply.heavy,
            )
            for i, req in enumerate(requests)
        ]
        return BatchAnswer(pages, reply.rate)

    def aliased(
        self, query: str, variables: dict[str, Any], count: int, *, shrinkable: bool = False
    ) -> AliasedAnswer:
        """Run a query of `count` repository aliases r0, r1, ...; errors are sorted by alias.

        RESOURCE_LIMITS_EXCEEDED: when no alias got data and the caller can ask smaller, raises
        QueryTooHeavy; when some did, `heavy` says the aliases without data are to be asked again
        smaller; when the query cannot shrink, every alias without data gets the error.
        """
        answer = self.query(query, variables, shrinkable=shrinkable)
        data = answer.get("data")
        errors = [e for e in answer.get("errors") or [] if isinstance(e, dict)]
        heavy = any(e.get("type") == _RESOURCE_LIMITS for e in errors)
        if (
            heavy
            and shrinkable
            and not any(isinstance(data, dict) and data.get(f"r{i}") for i in range(count))
        ):
            raise QueryTooHeavy("GitHub GraphQL: RESOURCE_LIMITS_EXCEEDED")
        if not isinstance(data, dict):
            # Errors of the query itself (syntax, unknown field): no repository got an answer.
            first = errors[0].get("message") if errors else "the answer has no data"
            raise GitHubError(f"GitHub GraphQL: {said(first)}")
        by_alias, broken = _sort_errors(errors)
        if heavy and not shrinkable:  # already as small as it gets: report, do not loop
            for i in range(count):
                by_alias.setdefault(f"r{i}", "GitHub gave up: RESOURCE_LIMITS_EXCEEDED")
        return AliasedAnswer(
            data, by_alias, broken, heavy and shrinkable, parse_rate_limit(data.get("rateLimit"))
        )

    def issues_by_number(self, repo: str, numbers: Sequence[int]) -> list[dict]:
        """Issue nodes of one repository by number (to refetch issues a page had errors in)."""
        query, variables = build_refetch_query(repo, numbers)
        data = self.query(query, variables).get("data")
        if not isinstance(data, dict) or not isinstance(data.get("repository"), dict):
            raise GitHubError(f"GitHub GraphQL: {repo} did not answer the refetch")
        block = data["repository"]
        return [block[f"i{k}"] for k in range(len(numbers)) if isinstance(block.get(f"i{k}"), dict)]

    def closing_refs(self, urls: Sequence[str]) -> dict[str, tuple[str, ...] | None]:
        """Issue URLs each pull request closes (closingIssuesReferences); None where GitHub
        answered an error for that pull request alone (the rest of the batch is kept)."""
        if not urls:
            return {}
        query, variables = build_closing_refs_query(urls)
        answer = self.query(query, variables)
        data = answer.get("data")
        if not isinstance(data, dict):
            errors = answer.get("errors") or [{}]
            raise GitHubError(f"GitHub GraphQL: {said(errors[0].get('message'))}")
        out: dict[str, tuple[str, ...] | None] = {}
        for i, url in enumerate(urls):
            node = data.get(f"p{i}")
            if not isinstance(node, dict):
                out[url] = None
                continue
            refs = (node.get("closingIssuesReferences") or {}).get("nodes") or []
            out[url] = tuple(n["url"] for n in refs if isinstance(n, dict) and n.get("url"))
        return out


def build_refetch_query(repo: str, numbers: Sequence[int]) -> tuple[str, dict[str, Any]]:
    """Issues of one repository by number, each with the fields of the issues query."""
    owner, name = _split(repo)
    declared = ", ".join(f"$n{k}: Int!" for k in range(len(numbers)))
    fields = "\n".join(
        f"    i{k}: issue(number: $n{k}) {{ ...IssueFields }}" for k in range(len(numbers))
    )
    query = (
        f"query RefetchIssues($owner: String!, $name: String!, {declared}) {{\n"
        "  rateLimit { cost remaining resetAt }\n"
        f"  repository(owner: $owner, name: $name) {{\n{fields}\n  }}\n}}\n" + ISSUE_FRAGMENT
    )
    variables: dict[str, Any] = {"owner": owner, "name": name}
    variables.update({f"n{k}": int(n) for k, n in enumerate(numbers)})
    return query, variables


def build_closing_refs_query(urls: Sequence[str]) -> tuple[str, dict[str, Any]]:
    """Closing issue references of pull requests by URL; the URLs travel as variables."""
    declared = ", ".join(f"$u{i}: URI!" for i in range(len(urls)))
    fields = "\n".join(
        f"  p{i}: resource(url: $u{i}) {{ ... on PullRequest {{ "
        f"closingIssuesReferences(first: {CLOSING_REFS_FIRST}) {{ nodes {{ url }} }} }} }}"
        for i in range(len(urls))
    )
    query = (
        f"query ClosingRefs({declared}) {{\n  rateLimit {{ cost remaining resetAt }}\n"
        f"{fields}\n}}\n"
    )
    return query, {f"u{i}": url for i, url in enumerate(urls)}


def _sort_errors(errors: list[dict]) -> tuple[dict[str, str], dict[str, set[int]]]:
    """Errors by repository alias, and the issue nodes (by index) each alias had errors inside."""
    by_alias: dict[str, str] = {}
    broken: dict[str, set[int]] = {}
    for err in errors:
        path = err.get("path") or []
        if not path or not isinstance(path[0], str) or not _ALIAS.match(path[0]):
            if err.get("type") == _RESOURCE_LIMITS:
                continue
            raise GitHubError(f"GitHub GraphQL: {said(err.get('message'))}")
        alias = path[0]
        if len(path) >= 4 and path[1:3] == ["issues", "nodes"] and isinstance(path[3], int):
            broken.setdefault(alias, set()).add(path[3])
        else:
            by_alias.setdefault(alias, said(err.get("message") or err.get("type")) or "error")
    return by_alias, broken


def _page(repo: str, block: Any, error: str | None, broken: set[int], heavy: bool) -> RepoPage:
    if block is None:
        if heavy:
            return RepoPage(repo, heavy=True)
        return RepoPage(repo, error=(error or "repository not found")[:200])
    if not isinstance(block, dict):
        return RepoPage(repo, error="malformed answer: repository is not an object")
    issues = block.get("issues")
    if issues is None and heavy:
        return RepoPage(repo, heavy=True)
    if not isinstance(issues, dict):
        return RepoPage(repo, error="malformed answer: no issues connection")
    info = issues.get("pageInfo")
    nodes = issues.get("nodes")
    if (
        not isinstance(info, dict)
        or not isinstance(nodes, list)
        or not isinstance(info.get("hasNextPage"), bool)
    ):
        return RepoPage(repo, error="malformed answer: issues connection lacks pageInfo or nodes")
    cursor = info.get("endCursor")
    if info["hasNextPage"] and not isinstance(cursor, str):
        return RepoPage(repo, error="malformed answer: hasNextPage without endCursor")
    incomplete = [
        nodes[k]["number"]
        for k in sorted(broken)
        if k < len(nodes) and isinstance(nodes[k], dict) and isinstance(nodes[k].get("number"), int)
    ]
    meta = {k: v for k, v in block.items() if k != "issues"}
    total = issues.get("totalCount")
    return RepoPage(
        repo,
        nodes=[n for n in nodes if isinstance(n, dict)],
        meta=meta,
        has_next=info["hasNextPage"],
        end_cursor=cursor,
        total=total if isinstance(total, int) else None,
        incomplete=incomplete,
    )
