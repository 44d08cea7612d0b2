"""The GraphQL and REST clients against the fake GitHub: queries, pages, ETags, auth, faults."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from github import Auth, Github

from matcher.catalog import load_catalog
from matcher.errors import AuthError, GitHubError
from matcher.github.graphql import RepoRequest, build_query
from matcher.github.parse import parse_issue, parse_repo_meta
from tests.fakes.github_fixtures import LABELS, TOKEN, fake_client
from tests.fakes.github_server import FakeGitHub


def test_unknown_fields_arguments_and_variables_are_rejected(fake_github):
    with fake_client(fake_github) as client:
        bad = [
            '{ repository(owner: "a", name: "b") { starCount } }',
            '{ repository(owner: "a", name: "b", color: RED) { name } }',
            "query Q($x: String) { rateLimit { cost } }",
            '{ repository(owner: "a", name: "b") { issues { nodes { title } } } }',
            "{ rateLimit { cost } ",
        ]
        for query in bad:
            answer = client.graphql.query(query)
            assert "data" not in answer and answer["errors"], query
        fake_github.seed(1, 1)
        query, variables = build_query([RepoRequest("ml-org0/project-000")], LABELS)
        assert "data" in client.graphql.query(query, variables)
        broken = client.graphql.query(query.replace("stargazerCount", "starCount"), variables)
        assert "'starCount'" in broken["errors"][0]["message"] and "data" not in broken


def test_batched_query_pages_through_a_big_repository_and_reports_cost(fake_github):
    fake_github.seed(repos=2, issues_per_repo=0, noise=0)
    for k in range(230):
        fake_github.add_issue("ml-org0/project-000", f"task {k}", labels=["good first issue"])
    fake_github.add_issue("ml-org1/project-001", "one", labels=["help wanted"])
    fake_github.add_issue("ml-org1/project-001", "not beginner", labels=["bug"])
    with fake_client(fake_github) as client:
        requests = [
            RepoRequest("ml-org0/project-000"),
            RepoRequest("ml-org1/project-001"),
            RepoRequest("nobody/nothing"),
        ]
        answer = client.graphql.issue_pages(requests, LABELS)
        big, small, missing = answer.pages
        assert len(big.nodes) == 100 and big.has_next and big.total == 230
        assert [n["title"] for n in small.nodes] == ["one"] and not small.has_next
        assert missing.error and "Could not resolve" in missing.error
        assert answer.rate.cost == fake_github.stats.graphql_points > 1
        numbers = [n["number"] for n in big.nodes]
        cursor = big.end_cursor
        while cursor:
            page = client.graphql.issue_pages(
                [RepoRequest("ml-org0/project-000", after=cursor)], LABELS
            ).pages[0]
            numbers += [n["number"] for n in page.nodes]
            cursor = page.end_cursor if page.has_next else None
        assert sorted(numbers) == list(range(1, 231))
        assert client.stats()["graphql_points"] == fake_github.stats.graphql_points
        assert client.stats()["requests"] == fake_github.stats.graphql == 3


def test_signals_assigned_linked_claimed_closed(fake_github):
    fake_github.seed(repos=1, issues_per_repo=8, noise=0)
    urls = sorted(i.url for i in fake_github.state.issues.values())
    by = dict(
        zip(
            ["assigned", "closing", "connected", "cross", "closed_pr", "claim", "chat", "closed"],
            urls,
            strict=False,
        )
    )
    fake_github.assign(by["assigned"], "ada")
    fake_github.link_pr(by["closing"], "closing")
    fake_github.link_pr(by["connected"], "connected")
    fake_github.link_pr(by["cross"], "cross")
    fake_github.link_pr(by["closed_pr"], "closing", state="CLOSED")
    fake_github.add_comment(by["claim"], "Hi, can I take this up? I'd like to work on this.")
    fake_github.add_comment(by["chat"], "Is this still reproducible on main?")
    fake_github.close_issue(by["closed"])
    labels = load_catalog().labels
    with fake_client(fake_github) as client:
        page = client.graphql.issue_pages(
            [RepoRequest("ml-org0/project-000", since=datetime(2000, 1, 1, tzinfo=UTC))], LABELS
        ).pages[0]
    meta = parse_repo_meta(page.meta, "ml-org0/project-000")
    assert meta.stars == 100 and meta.language == "Python" and "machine-learning" in meta.topics
    issues = {i.url: (i, s) for i, s in (parse_issue(n, meta, labels) for n in page.nodes)}
    assert issues[by["assigned"]][0].assignees == ("ada",)
    assert issues[by["closing"]][0].linked_prs and issues[by["connected"]][0].linked_prs
    assert issues[by["cross"]][0].linked_prs
    assert not issues[by["closed_pr"]][0].is_taken  # a closed PR does not hold the issue
    claim, signals = issues[by["claim"]]
    assert claim.claimed and signals.claimed_by == "learner42" and claim.comments == 1
    assert not issues[by["chat"]][0].is_taken
    assert issues[by["closed"]][0].state == "closed"
    strengths = {i.labels[0]: s.beginner_strength for i, s in issues.values()}
    assert strengths["good first issue"] > strengths["help wanted"] > strengths["documentation"]


def test_malformed_repository_answer_is_that_repositorys_error(fake_github):
    from matcher.errors import MalformedResponseError

    fake_github.seed(repos=2, issues_per_repo=2, noise=0)
    fake_github.corrupt_repos.add("ml-org1/project-001")
    labels = load_catalog().labels
    with fake_client(fake_github) as client:
        pages = client.graphql.issue_pages(
            [RepoRequest("ml-org0/project-000"), RepoRequest("ml-org1/project-001")], LABELS
        ).pages
    good, bad = (parse_repo_meta(p.meta, p.repo) for p in pages)
    assert all(parse_issue(n, good, labels) for n in pages[0].nodes)
    with pytest.raises(MalformedResponseError, match="ml-org1/project-001"):
        [parse_issue(n, bad, labels) for n in pages[1].nodes]


def test_rest_repository_etag_304_and_discovery(fake_github):
    fake_github.seed(repos=12, issues_per_repo=1, noise=0)
    with fake_client(fake_github) as client:
        meta, etag = client.rest.repository("ml-org0/project-000")
        assert meta.repo == "ml-org0/project-000" and meta.stars == 100 and etag
        again, etag2 = client.rest.repository("ml-org0/project-000", etag=etag)
        assert again is None and etag2 == etag and fake_github.stats.not_modified == 1
        found = client.rest.discover(["nlp"], min_stars=500)
        nlp = found["nlp"].data
        assert [m.repo for m in nlp] == sorted((m.repo for m in nlp), key=lambda r: -int(r[-3:]))
        assert all("nlp" in m.topics and m.stars >= 500 for m in nlp) and nlp
        cached = client.rest.discover(["nlp"], min_stars=500, etags={"nlp": found["nlp"].etag})
        assert cached["nlp"].not_modified
        with pytest.raises(GitHubError, match="not found"):
            client.rest.repository("nobody/nothing")
        assert client.stats()["rest_requests"] == 5


def test_pygithub_follows_link_pagination(fake_github):
    fake_github.seed(repos=23, issues_per_repo=0, noise=0)
    gh = Github(
        base_url=fake_github.url,
        auth=Auth.Token(TOKEN),
        per_page=5,
        retry=None,
        seconds_between_requests=None,
    )
    names = [r.full_name for r in gh.search_repositories("topic:machine-learning")]
    assert len(names) == 23 and len(set(names)) == 23
    assert fake_github.stats.rest == 5
    assert gh.get_repo("ml-org3/project-003").stargazers_count == 400


def test_wrong_token_is_one_line_auth_error(fake_github):
    fake_github.seed(repos=1, issues_per_repo=1)
    with fake_client(fake_github, token="ghp_wrong_but_long") as client:
        with pytest.raises(AuthError) as err:
            client.graphql.issue_pages([RepoRequest("ml-org0/project-000")], LABELS)
        assert "ghp_wrong" not in str(err.value) and "\n" not in str(err.value)
        with pytest.raises(AuthError):
            client.rest.repository("ml-org0/project-000")


@pytest.mark.parametrize(
    "kind", ["secondary", "429", "primary", "502", "500", "timeout", "truncated"]
)
def test_each_fault_is_survived(fake_github: FakeGitHub, kind):
    fake_github.seed(repos=2, issues_per_repo=3, noise=0)
    fake_github.faults.add(kind, count=2)
    with fake_client(fake_github) as client:
        pages = client.graphql.issue_pages(
            [RepoRequest("ml-org0/project-000"), RepoRequest("ml-org1/project-001")], LABELS
        ).pages
        assert [len(p.nodes) for p in pages] == [3, 3]
        stats = client.stats()
        assert stats["retries"] == 2 and fake_github.faults.served == [kind, kind]
        if kind in ("secondary", "429"):
            # the server's Retry-After, not a guess; the second in a row waits twice as long
            assert client.policy.sleep.waits == [1.0, 2.0]


def test_rest_survives_secondary_limit_and_5xx(fake_github):
    fake_github.seed(repos=1, issues_per_repo=0, noise=0)
    fake_github.faults.add("secondary", target="rest")
    fake_github.faults.add("502", target="rest")
    with fake_client(fake_github) as client:
        meta, _ = client.rest.repository("ml-org0/project-000")
        assert meta.stars == 100
        # three REST requests, and the waits went through the shared policy's sleep
        assert client.stats()["rest_requests"] == 3 and client.policy.sleep.waits


def test_retries_are_capped(fake_github):
    fake_github.seed(repos=1, issues_per_repo=1)
    fake_github.faults.add("502", count=50)
    with fake_client(fake_github) as client:
        with pytest.raises(GitHubError, match="gave up after 4 retries"):
            client.graphql.issue_pages([RepoRequest("ml-org0/project-000")], LABELS)
    assert fake_github.stats.graphql == 5


def test_extension_api_routes_and_state(fake_github):
    fake_github.state.extra["hello"] = "world"
    fake_github.add_route(
        "GET",
        r"^/hello/(?P<who>\w+)$",
        lambda req: (200, {"hi": req.match["who"], "x": fake_github.state.extra["hello"]}),
    )
    with fake_client(fake_github) as client:
        answer = client.rest.get("/hello/ada")
        # PyGithub adds the `url` it fetched to every object it hands back
        assert answer.data == {"hi": "ada", "x": "world", "url": "/hello/ada"} and answer.etag
        assert client.rest.get("/hello/ada", etag=answer.etag).not_modified  # 304
    assert fake_github.template("repo")["full_name"]
