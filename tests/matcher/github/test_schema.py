"""Every GraphQL document the project can build validates against GitHub's public schema.

The schema is read from ../shared/github-schema/schema.graphql (beside the checkout, as CI lays
it); the project commits no copy. The fake GitHub refuses what this schema refuses (schema_errors).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from matcher.github import PAGE_SIZE, PROBE_PAGE_SIZE, RepoRequest
from matcher.github.graphql import (
    build_closing_refs_query,
    build_query,
    build_refetch_query,
)
from matcher.github.pulls import GRAPHQL_BATCH
from matcher.github.welcome import build_welcome_query
from matcher.sync import MIN_ISSUES_PER_PAGE, QuerySize
from tests.fakes.github_fixtures import LABELS
from tests.fakes.github_server import SCHEMA_PATH, real_schema, schema_errors

pytestmark = pytest.mark.skipif(
    not SCHEMA_PATH.is_file(), reason="../shared/github-schema/schema.graphql is absent"
)

SINCE = datetime(2026, 11, 1, tzinfo=UTC)


def _page_sizes() -> list[int]:
    """Every issues-per-page the sync can ask: full, probe, and each adaptive shrink step."""
    sizes = {PAGE_SIZE, PROBE_PAGE_SIZE, 1}
    size = QuerySize(repos=10)
    while size.shrink():
        sizes.add(size.issues)
    assert MIN_ISSUES_PER_PAGE in sizes
    return sorted(sizes)


@pytest.mark.parametrize("first", _page_sizes())
@pytest.mark.parametrize("repos", [1, 2, 10, 50])
def test_issue_queries_validate_in_every_shape(first, repos):
    requests = [
        RepoRequest(
            f"org-{k}/repo.name-{k}",
            after=None if k % 3 == 0 else "Y3Vyc29yOnYyOpK5",
            since=None if k % 2 == 0 else SINCE,
            first=first,
        )
        for k in range(repos)
    ]
    query, variables = build_query(requests, LABELS)
    assert schema_errors(query, variables) == []


@pytest.mark.parametrize("count", [1, 7, 20])
def test_refetch_query_validates(count):
    query, variables = build_refetch_query("acme/lib", list(range(1, count + 1)))
    assert schema_errors(query, variables) == []


@pytest.mark.parametrize("count", [1, GRAPHQL_BATCH])
def test_closing_refs_query_validates(count):
    urls = [f"https://github.com/acme/lib/pull/{n}" for n in range(1, count + 1)]
    query, variables = build_closing_refs_query(urls)
    assert schema_errors(query, variables) == []


def test_the_schema_refuses_what_github_refuses():
    assert real_schema() is not None
    assert schema_errors("{ viewer { loginName } }")  # unknown field
    assert schema_errors("query Q($u: URI!) { resource(url: $u) { url } }", {})  # missing var
    query, variables = build_query([RepoRequest("a/b")], LABELS)
    assert schema_errors(query.replace("DISCONNECTED_EVENT", "UNLINKED_EVENT"), variables)


@pytest.mark.parametrize("repos", [1, 2, 6, 50])
def test_welcome_query_validates_in_every_batch_size(repos):
    query, variables = build_welcome_query([f"org-{k}/repo.name-{k}" for k in range(repos)])
    assert schema_errors(query, variables) == []
