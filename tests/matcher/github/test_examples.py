"""GitHub's own recorded payloads (../shared/github-examples) through the project's parsers and transport.

Every example the project consumes is listed in CONSUMED and exercised here; the test of the
list itself fails when a consumed file disappears from the directory.
"""

from __future__ import annotations

import httpx
import pytest

from matcher.catalog import load_catalog
from matcher.errors import AuthError, GitHubError, MalformedResponseError
from matcher.github.graphql import GraphQLClient
from matcher.github.parse import is_pull_request, parse_rest_issue, parse_rest_repo
from matcher.github.transport import Transport
from tests.fakes.github_fixtures import SleepRecorder
from tests.fakes.github_server import EXAMPLES, Exchange, load_exchanges

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


def test_rate_limit_headers_are_read():
    transport, _, _ = replay(load_exchanges("RateLimiting.testGetRateLimit"))
    data, _, _ = transport.get_json("https://api.github.com/rate_limit")
    assert data["resources"]["graphql"]["limit"] == 5000
    assert transport.stats.rate_remaining == 4904 and transport.stats.rate_reset is not None


def test_retries_after_5xx_then_returns_the_repository():
    transport, sleep, _ = replay(load_exchanges("Retry.testReturnsRepoAfter3Retries"))
    data, etag, _ = transport.get_json("https://api.github.com/repos/PyGithub/PyGithub")
    assert data["full_name"] == "PyGithub/PyGithub" and etag
    assert transport.stats.retries == 3 and len(sleep.waits) == 3
    assert sleep.waits == sorted(sleep.waits)  # exponential backoff grows


def test_gives_up_after_max_retries_with_one_line():
    transport, _, _ = replay(
        load_exchanges("Retry.testRaisesRetryErrorAfterMaxRetries"), max_retries=3
    )
    with pytest.raises(GitHubError) as err:
        transport.get_json("https://api.github.com/repos/PyGithub/PyGithub")
    assert "gave up after 3 retries" in str(err.value) and "\n" not in str(err.value)


def test_bad_credentials_is_an_auth_error_without_the_token():
    transport, _, _ = replay(load_exchanges("SpecificExceptions.testBadCredentials"))
    with pytest.raises(AuthError) as err:
        transport.get_json("https://api.github.com/user")
    assert "Bad credentials" in str(err.value) and "ghp_secret" not in str(err.value)


def test_secondary_limit_waits_retry_after_then_succeeds():
    ok, limited = load_exchanges("SpecificExceptions.testAuthenticatedRateLimitExceeded")
    transport, sleep, _ = replay([limited, ok])
    data, _, _ = transport.get_json("https://api.github.com/search/code?q=jacquev6")
    assert data["total_count"] > 0
    assert sleep.waits == [60.0]


def test_primary_limit_403_waits_for_the_reset():
    ok, limited = load_exchanges("SpecificExceptions.testRateLimitExceeded")
    transport, sleep, _ = replay([limited, ok])
    data, _, _ = transport.get_json("https://api.github.com/users/jacquev6")
    assert data["login"] == "jacquev6" and len(sleep.waits) == 1


def test_unknown_user_is_a_plain_error():
    transport, _, _ = replay(load_exchanges("Exceptions.testUnknownUser"))
    with pytest.raises(GitHubError, match="HTTP 404: Not Found"):
        transport.get_json("https://api.github.com/users/ThisUserShouldReallyNotExist")


def test_html_503_is_retried_then_reported():
    exchange = load_exchanges("Exceptions.testNonJsonDataReturnedByGithub")[0]
    transport, _, _ = replay([exchange] * 3, max_retries=2)
    with pytest.raises(GitHubError, match="HTTP 503"):
        transport.get_json("https://api.github.com/users/jacquev6")


def test_cut_off_json_is_retried_then_malformed():
    exchange = load_exchanges("Exceptions.testJSONParseError")[0]
    transport, _, _ = replay([exchange] * 2, max_retries=1)
    with pytest.raises(GitHubError, match="malformed JSON"):
        transport.get_json("https://api.github.com/users/jacquev6")


def test_conditional_request_304_is_not_modified():
    full = load_exchanges("ConditionalRequestUpdate.setUp")[0]
    not_modified = load_exchanges("ConditionalRequestUpdate.testDidNotUpdate")[0]
    transport, _, seen = replay([full, not_modified])
    url = "https://api.github.com/repos/akfish/PyGithub"
    data, etag, fresh = transport.get_json(url)
    again, etag2, not_changed = transport.get_json(url)
    assert not fresh and not_changed and again == data and etag2 == etag
    assert seen[1].headers["if-none-match"] == full.header("etag")
    assert transport.stats.not_modified == 1


def test_claim_phrases_come_from_config():
    labels = load_catalog().labels
    assert labels.is_claim("Hi! Can I work on this?") and labels.is_claim("/assign")
    assert not labels.is_claim("This also happens on Windows.")
