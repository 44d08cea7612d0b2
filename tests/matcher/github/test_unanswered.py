"""Unanswered comments (issue 13): the last comments from people who are not maintainers that no
maintainer answered after, from GraphQL nodes, REST payloads (GitHub's own) and a real sync."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from matcher.catalog import load_catalog
from matcher.engine import MatchEngine
from matcher.github.graphql import RepoRequest
from matcher.github.parse import (
    Comment,
    RepoMeta,
    graphql_comment,
    is_pull_request,
    parse_issue,
    parse_repo_meta,
    parse_rest_issue,
    rest_comment,
    unanswered,
)
from matcher.models import Profile
from matcher.store.issues import load_issues
from tests.fakes.github_fixtures import LABELS, fake_client
from tests.fakes.github_server import EXAMPLES, load_exchanges

T0 = datetime(2026, 6, 1, tzinfo=UTC)
REPO = "acme/lib"


def node(day: int, association: str | None, login: str = "someone", kind: str = "User") -> dict:
    """A comment node as the issues query asks it, posted `day` days after T0."""
    comment = {
        "body": "text",
        "createdAt": (T0 + timedelta(days=day)).isoformat().replace("+00:00", "Z"),
        "author": {"__typename": kind, "login": login},
    }
    if association is not None:
        comment["authorAssociation"] = association
    return comment


def count(*nodes: dict) -> tuple[int, datetime | None]:
    return unanswered(graphql_comment(n, REPO) for n in nodes)


def at(day: int) -> datetime:
    return T0 + timedelta(days=day)


def test_a_maintainer_speaking_last_leaves_nothing_unanswered():
    for maintainer in ("OWNER", "MEMBER", "COLLABORATOR"):
        assert count(node(0, "NONE"), node(1, maintainer)) == (0, None)
    assert count() == (0, None)


def test_the_comments_after_the_last_maintainer_reply_count_from_the_oldest():
    said = count(
        node(0, "NONE"),
        node(1, "MEMBER"),
        node(2, "FIRST_TIME_CONTRIBUTOR"),
        node(5, "CONTRIBUTOR"),
        node(9, "FIRST_TIMER"),
    )
    assert said == (3, at(2))


def test_the_issue_author_asking_is_this_still_open_counts_and_a_reply_resets():
    asked = count(node(0, "MEMBER"), node(40, "NONE", login="issue-author"))
    assert asked == (1, at(40))
    assert count(node(0, "MEMBER"), node(40, "NONE"), node(41, "OWNER")) == (0, None)


def test_bots_neither_ask_nor_answer():
    stale_bot = node(60, "NONE", login="stale", kind="Bot")  # GraphQL: a Bot, no [bot] suffix
    app = node(61, "CONTRIBUTOR", login="github-actions[bot]")  # the REST spelling of a bot
    assert count(node(10, "NONE"), stale_bot, app) == (1, at(10))
    assert count(node(10, "MEMBER"), stale_bot, app) == (0, None)
    assert count(stale_bot) == (0, None)


def test_an_unknown_association_ends_the_count_it_may_be_a_maintainer():
    assert count(node(0, "NONE"), node(1, None), node(2, "NONE")) == (1, at(2))
    assert count(node(0, "NONE"), node(1, "SOMETHING_NEW")) == (0, None)


def test_a_deleted_account_is_a_ghost_not_a_bot():
    ghost = dict(node(3, "NONE"), author=None)
    assert count(ghost) == (1, at(3))


def test_order_of_the_nodes_does_not_matter():
    assert count(node(9, "NONE"), node(1, "MEMBER"), node(5, "NONE")) == (2, at(5))


def test_parse_issue_fills_the_fields_from_the_last_comments():
    issue_node = {
        "number": 7,
        "url": f"https://github.com/{REPO}/issues/7",
        "title": "Tokenizer drops a token",
        "body": "",
        "state": "OPEN",
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-06-10T00:00:00Z",
        "labels": {"nodes": [{"name": "good first issue"}]},
        "assignees": {"nodes": []},
        "comments": {
            "totalCount": 9,
            "nodes": [node(0, "OWNER"), node(2, "NONE"), node(9, "NONE", "x", "Bot")],
        },
    }
    issue, _ = parse_issue(issue_node, RepoMeta(REPO), load_catalog().labels, now=at(30))
    assert (issue.unanswered_comments, issue.unanswered_since) == (1, at(2))
    assert issue.comments == 9


# --- REST: GitHub's own recorded payloads -----------------------------------------------------

needs_examples = pytest.mark.skipif(
    not EXAMPLES.is_dir(), reason="../shared/github-examples is absent"
)


@needs_examples
def test_rest_timeline_comments_carry_author_association_and_count():
    events = load_exchanges("Issue.testGetTimeline")[0].json()
    commented = [e for e in events if e.get("event") == "commented"]
    comments = [rest_comment(e, "PyGithub/PyGithub") for e in commented]
    assert comments and {c.association for c in comments} == {"CONTRIBUTOR"}
    assert not any(c.bot for c in comments)
    waiting, since = unanswered(comments)
    assert waiting == len(comments) and since == min(c.created_at for c in comments)


@needs_examples
def test_old_rest_comments_without_an_association_say_nothing():
    items = load_exchanges("Issue.testGetComments")[0].json()
    assert all("author_association" not in item for item in items)
    assert unanswered(rest_comment(item) for item in items) == (0, None)
    issue_item = next(
        i for i in load_exchanges("Repository.testGetIssues")[0].json() if not is_pull_request(i)
    )
    issue = parse_rest_issue(issue_item, comments=items)
    assert (issue.unanswered_comments, issue.unanswered_since) == (0, None)


def test_rest_bot_and_maintainer_comments():
    def item(day, association, login="ada", kind="User"):
        return {
            "created_at": at(day).isoformat(),
            "author_association": association,
            "user": {"login": login, "type": kind},
        }

    comments = [
        rest_comment(item(0, "MEMBER")),
        rest_comment(item(3, "NONE")),
        rest_comment(item(4, "NONE", "dependabot[bot]", "Bot")),
    ]
    assert comments[2] == Comment(at(4), "NONE", bot=True)
    assert unanswered(comments) == (1, at(3))


# --- through the fake GitHub and a sync -------------------------------------------------------


def test_fake_github_serves_association_and_bots_and_the_sync_stores_them(fake_github, tmp_path):
    from tests.fakes.github_fixtures import make_env

    env = make_env(fake_github, tmp_path / "store.sqlite", repos=1, issues=3)
    urls = sorted(i.url for i in fake_github.state.issues.values() if i.state == "OPEN")
    first, second, third = urls[:3]
    long_ago = fake_github.state.clock - timedelta(days=75)
    fake_github.add_comment(first, "Is this still open? I'd like to help.", at=long_ago)
    fake_github.add_comment(first, "This issue is stale.", author="stale[bot]")
    fake_github.add_comment(second, "Is this still open?", at=long_ago)
    fake_github.add_comment(second, "Yes, go ahead!", author="maint", association="MEMBER")
    fake_github.add_comment(third, "Question?", association="FIRST_TIME_CONTRIBUTOR")

    with fake_client(fake_github) as client:
        page = client.graphql.issue_pages([RepoRequest(env.repos[0])], LABELS).pages[0]
    comments = {n["url"]: n["comments"]["nodes"] for n in page.nodes}
    bot = comments[first][-1]
    assert bot["author"] == {"__typename": "Bot", "login": "stale"}
    assert bot["authorAssociation"] == "NONE"
    assert comments[second][-1]["authorAssociation"] == "MEMBER"
    meta = parse_repo_meta(page.meta, env.repos[0])
    parsed = {n["url"]: parse_issue(n, meta, env.catalog.labels)[0] for n in page.nodes}
    assert parsed[first].unanswered_comments == 1

    env.run()
    stored = {i.url: i for i in load_issues(env.db)}
    assert (stored[first].unanswered_comments, stored[first].unanswered_since) == (1, long_ago)
    assert (stored[second].unanswered_comments, stored[second].unanswered_since) == (0, None)
    assert stored[third].unanswered_comments == 1  # just asked: counted, not yet overdue

    engine = MatchEngine(env.db, env.settings, embedder=env.embedder)
    learner = Profile(id="p", skills="Python", niche="machine learning")
    reasons = {m.issue.url: m.reasons for m in engine.match(learner, top_k=20)}
    assert "1 comment waiting for a maintainer's answer for 2 months" in reasons[first]
    assert not any("waiting" in r for r in reasons[second] + reasons[third])
    env.db.close()
