"""GitHub's recorded exchanges (../shared/github-examples) through the production clients.

REST answers are replayed over real HTTP to PyGithub under the shared policy (RestClient), GraphQL
answers to the httpx transport (GraphQLClient), the two paths production uses.

Every example the project consumes is listed in CONSUMED and exercised here; the test of the
list itself fails when a consumed file disappears from the directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from matcher.catalog import load_catalog
from matcher.errors import AuthError, GitHubError, GitHubNotFoundError, MalformedResponseError
from matcher.github.graphql import GraphQLClient
from matcher.github.parse import is_pull_request, parse_rest_issue, parse_rest_repo
from matcher.github.policy import RetryPolicy
from matcher.github.rest import RestClient
from matcher.github.transport import Transport
from tests.fakes.github_fixtures import SleepRecorder
from tests.fakes.github_server import EXAMPLES, Exchange, ReplayServer, load_exchanges

pytestmark = pytest.mark.skipif(not EXAMPLES.is_dir(), reason="../shared/github-examples is absent")

CONSUMED = {
    # REST repository objects -> RepoMeta
    "Issue.setUp",
    "Issue.testAttributes",
    "ConditionalRequestUpdate.setUp",
    "ConditionalRequestUpdate.testDidUpdate",
    "ConditionalRequestUpdate.testDidNotUpdate",
    "GraphQl.testPaginationAndRestIntegration",
    "Search.testSearchRepos",
    "Search.testSearchReposWithNoResults",
    # REST issues -> Issue
    "Repository.testGetIssues",
    "AuthenticatedUser.testGetIssues",
    # GraphQL envelopes, rate limits and errors -> transport / GraphQL client
    "GraphQl.testQuery",
    "GraphQl.testNode",
    "RateLimiting.testGetRateLimit",
    "Retry.testReturnsRepoAfter1Retry",
    "Retry.testReturnsRepoAfter3Retries",
    "Retry.testRaisesRetryErrorAfterMaxRetries",
    "SpecificExceptions.testBadCredentials",
    "SpecificExceptions.testAuthenticatedRateLimitExceeded",
    "SpecificExceptions.testRateLimitExceeded",
    "Exceptions.testUnknownUser",
    "Exceptions.testNonJsonDataReturnedByGithub",
    "Exceptions.testJSONParseError",
}

_DROP = {"content-encoding", "transfer-encoding", "content-length"}


def replay(
    exchanges: list[Exchange], *, max_retries: int = 5
) -> tuple[Transport, SleepRecorder, list]:
    """A transport whose answers are the recorded ones, in order."""
    queue = list(exchanges)
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        ex = queue.pop(0)
        headers = [(k, v) for k, v in ex.headers if k.lower() not in _DROP]
        return httpx.Response(ex.status, headers=headers, content=ex.body.encode())

    sleep = SleepRecorder()
    transport = Transport(
        "ghp_secret_token_123",
        max_retries=max_retries,
        sleep=sleep,
        backoff_base=0.01,
        httpx_transport=httpx.MockTransport(handler),
        clock=lambda: 0.0,
    )
    return transport, sleep, seen


def test_every_consumed_example_is_there():
    missing = [name for name in sorted(CONSUMED) if not (EXAMPLES / f"{name}.txt").is_file()]
    assert not missing


@pytest.mark.parametrize(
    "name,index",
    [
        ("Issue.setUp", 0),
        ("Issue.testAttributes", 0),
        ("ConditionalRequestUpdate.setUp", 0),
        ("ConditionalRequestUpdate.testDidUpdate", 0),
        ("GraphQl.testPaginationAndRestIntegration", 0),
        ("Retry.testReturnsRepoAfter1Retry", 1),
    ],
)
def test_rest_repository_payloads_parse(name, index):
    data = load_exchanges(name)[index].json()
    meta = parse_rest_repo(data)
    assert meta.repo == data["full_name"] and "/" in meta.repo
    assert meta.stars is None or isinstance(meta.stars, int)
    assert isinstance(meta.topics, tuple)


def test_search_repositories_items_parse():
    page = load_exchanges("Search.testSearchRepos")[0].json()
    metas = [parse_rest_repo(item) for item in page["items"]]
    assert len(metas) == len(page["items"]) > 0
    assert all(m.repo.count("/") == 1 for m in metas)
    assert load_exchanges("Search.testSearchReposWithNoResults")[0].json()["items"] == []


@pytest.mark.parametrize("name", ["Repository.testGetIssues", "AuthenticatedUser.testGetIssues"])
def test_rest_issue_payloads_parse_and_pull_requests_are_refused(name):
    items = load_exchanges(name)[0].json()
    issues, prs = [], 0
    for item in items:
        if is_pull_request(item):
            prs += 1
            with pytest.raises(MalformedResponseError):
                parse_rest_issue(item)
        else:
            issues.append(parse_rest_issue(item))
    assert issues
    assert all(i.number > 0 and i.url.startswith("https://github.com/") for i in issues)
    assert all(i.created_at.tzinfo is not None for i in issues)


def test_graphql_envelope_and_node_not_found_error():
    transport, _, seen = replay(
        load_exchanges("GraphQl.testQuery") + load_exchanges("GraphQl.testNode")
    )
    client = GraphQLClient(transport, "https://api.github.com/graphql")
    assert (
        client.query("query { x }")["data"]["repository"]["url"]
        == "https://github.com/PyGithub/PyGithub"
    )
    client.query("q")
    missing = client.query("q")
    assert missing["data"]["node"] is None and missing["errors"][0]["type"] == "NOT_FOUND"
    assert seen[0].headers["authorization"] == "bearer ghp_secret_token_123"
    assert transport.stats.rate_remaining == 4981  # X-RateLimit-Remaining of the last answer


@contextmanager
def rest_replay(
    exchanges: list[Exchange], *, max_retries: int = 5, clock: float = 0.0
) -> Iterator[tuple[RestClient, SleepRecorder, ReplayServer]]:
    """The production REST client (PyGithub under the shared policy) against recorded answers."""
    sleep = SleepRecorder()
    policy = RetryPolicy(
        max_retries=max_retries, backoff_base=0.01, sleep=sleep, clock=lambda: clock
    )
    with ReplayServer(exchanges) as server:
        client = RestClient("ghp_secret_token_123", server.url, policy=policy, timeout=5)
        try:
            yield client, sleep, server
        finally:
            client.close()


def test_rate_limit_headers_are_read():
    with rest_replay(load_exchanges("RateLimiting.testGetRateLimit")) as (client, _, _):
        data = client.get("/rate_limit").data
    assert data["resources"]["graphql"]["limit"] == 5000
    assert client.rate_remaining == 4904


def test_retries_after_5xx_then_returns_the_repository():
    exchanges = load_exchanges("Retry.testReturnsRepoAfter3Retries")
    with rest_replay(exchanges) as (client, sleep, server):
        meta, etag = client.repository("PyGithub/PyGithub")
    assert meta.repo == "PyGithub/PyGithub" and etag
    assert client.policy.stats.retries == 3 and len(sleep.waits) == 3
    assert client.policy.stats.rest_requests == 4 == len(server.seen)
    assert sleep.waits == sorted(sleep.waits)  # exponential backoff grows


def test_gives_up_after_max_retries_with_one_line():
    exchanges = load_exchanges("Retry.testRaisesRetryErrorAfterMaxRetries")
    with rest_replay(exchanges, max_retries=3) as (client, _, server):
        with pytest.raises(GitHubError) as err:
            client.repository("PyGithub/PyGithub")
    assert len(server.seen) == 4  # the first try and 3 retries
    assert "repository PyGithub/PyGithub" in str(err.value) and "\n" not in str(err.value)


def test_bad_credentials_is_an_auth_error_without_the_token():
    with rest_replay(load_exchanges("SpecificExceptions.testBadCredentials")) as (client, _, s):
        with pytest.raises(AuthError) as err:
            client.user("jacquev6")
    assert "Bad credentials" in str(err.value) and "ghp_secret" not in str(err.value)
    assert s.seen[0][2]["authorization"] == "token ghp_secret_token_123"


def test_secondary_limit_waits_retry_after_then_succeeds():
    ok, limited = load_exchanges("SpecificExceptions.testAuthenticatedRateLimitExceeded")
    with rest_replay([limited, ok]) as (client, sleep, _):
        data = client.get("/search/code", params={"q": "jacquev6"}).data
    assert data["total_count"] > 0
    assert sleep.waits == [60.0]


def test_primary_limit_403_waits_for_the_reset():
    ok, limited = load_exchanges("SpecificExceptions.testRateLimitExceeded")
    with rest_replay([limited, ok]) as (client, sleep, _):
        assert client.user("jacquev6")["login"] == "jacquev6"
    assert len(sleep.waits) == 1


def test_unknown_user_is_a_plain_error():
    with rest_replay(load_exchanges("Exceptions.testUnknownUser")) as (client, _, _):
        with pytest.raises(GitHubNotFoundError, match="GitHub has no user"):
            client.user("ThisUserShouldReallyNotExist")


def test_html_503_is_retried_then_reported():
    exchange = load_exchanges("Exceptions.testNonJsonDataReturnedByGithub")[0]
    with rest_replay([exchange] * 3, max_retries=2) as (client, sleep, server):
        with pytest.raises(GitHubError, match="503"):
            client.user("jacquev6")
    assert len(server.seen) == 3 and len(sleep.waits) == 2


def test_cut_off_json_is_malformed():
    exchange = load_exchanges("Exceptions.testJSONParseError")[0]
    with rest_replay([exchange] * 2, max_retries=1) as (client, _, _):
        with pytest.raises(GitHubError, match="malformed JSON"):
            client.user("jacquev6")


def test_conditional_request_304_is_not_modified():
    full = load_exchanges("ConditionalRequestUpdate.setUp")[0]
    not_modified = load_exchanges("ConditionalRequestUpdate.testDidNotUpdate")[0]
    with rest_replay([full, not_modified]) as (client, _, server):
        meta, etag = client.repository("akfish/PyGithub")
        again, etag2 = client.repository("akfish/PyGithub", etag=etag)
    assert meta is not None and again is None and etag2 == etag
    assert server.seen[1][2]["if-none-match"] == full.header("etag")
    assert client.policy.stats.not_modified == 1


def test_claim_phrases_come_from_config():
    labels = load_catalog().labels
    assert labels.is_claim("Hi! Can I work on this?") and labels.is_claim("/assign")
    assert not labels.is_claim("This also happens on Windows.")
