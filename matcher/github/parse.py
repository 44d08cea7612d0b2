"""Turn GitHub's GraphQL and REST payloads into `Issue` records and repository metadata.

Every function here is pure. A payload without the fields we rely on raises
`MalformedResponseError` naming the repository, so the caller can fail that repository alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from matcher.catalog import Labels
from matcher.errors import MalformedResponseError
from matcher.models import Issue

T = TypeVar("T")

CLAIM_MAX_AGE_DAYS = 90  # a "can I take this?" older than this no longer keeps others away
MAINTAINER_ASSOCIATIONS = frozenset({"OWNER", "MEMBER", "COLLABORATOR"})
# GitHub's other CommentAuthorAssociation values: people who do not maintain the repository.
OTHER_ASSOCIATIONS = frozenset(
    {"CONTRIBUTOR", "FIRST_TIMER", "FIRST_TIME_CONTRIBUTOR", "MANNEQUIN", "NONE"}
)


@dataclass(frozen=True)
class RepoMeta:
    """What the ranking and the learner see about a repository."""

    repo: str
    description: str = ""
    stars: int | None = None
    language: str | None = None
    topics: tuple[str, ...] = ()
    archived: bool = False


@dataclass(frozen=True)
class IssueSignals:
    """Signals about an issue that `Issue` has no field for; stored next to it."""

    url: str
    beginner_strength: float
    reactions: int
    last_activity_at: datetime | None
    claimed_by: str | None = None
    claimed_at: datetime | None = None


@dataclass(frozen=True)
class Comment:
    """One issue comment as the unanswered rule reads it, from a GraphQL or a REST payload."""

    created_at: datetime
    association: str | None  # CommentAuthorAssociation; None when the payload does not say
    bot: bool = False


def parse_time(value: Any, what: str, repo: str) -> datetime:
    """GitHub's ISO-8601 timestamps ('2024-09-17T11:00:11Z') as aware UTC datetimes."""
    if not isinstance(value, str):
        raise MalformedResponseError(f"{repo}: {what} is not a timestamp")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise MalformedResponseError(
            f"{repo}: {what} is not a timestamp ({value[:40]!r})"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _nodes(container: Any, what: str, repo: str) -> list[dict]:
    if container is None:
        return []
    nodes = container.get("nodes") if isinstance(container, dict) else None
    if not isinstance(nodes, list):
        raise MalformedResponseError(f"{repo}: {what} has no list of nodes")
    return [n for n in nodes if isinstance(n, dict)]


def _need(
    node: Mapping, key: str, kind: type | tuple[type, ...], repo: str, where: str = "issue"
) -> Any:
    value = node.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise MalformedResponseError(f"{repo}: {where} field '{key}' is missing or malformed")
    return value


def parse_repo_meta(node: Any, repo: str) -> RepoMeta:
    """The repository block of the GraphQL issues query."""
    if not isinstance(node, dict):
        raise MalformedResponseError(f"{repo}: repository block is not an object")
    topics = tuple(
        t["topic"]["name"]
        for t in _nodes(node.get("repositoryTopics"), "repositoryTopics", repo)
        if isinstance(t.get("topic"), dict) and isinstance(t["topic"].get("name"), str)
    )
    language = node.get("primaryLanguage")
    stars = node.get("stargazerCount")
    return RepoMeta(
        repo=node.get("nameWithOwner") or repo,
        description=node.get("description") or "",
        stars=stars if isinstance(stars, int) else None,
        language=language.get("name") if isinstance(language, dict) else None,
        topics=topics,
        archived=bool(node.get("isArchived")),
    )


def parse_rest_repo(data: Any) -> RepoMeta:
    """A REST repository object (GET /repos/{owner}/{repo}, or an item of a repository search)."""
    if not isinstance(data, dict) or not isinstance(data.get("full_name"), str):
        raise MalformedResponseError("repository payload has no 'full_name'")
    repo = data["full_name"]
    stars = data.get("stargazers_count", data.get("watchers_count"))
    topics = data.get("topics") or []
    return RepoMeta(
        repo=repo,
        description=data.get("description") or "",
        stars=stars if isinstance(stars, int) else None,
        language=data.get("language") if isinstance(data.get("language"), str) else None,
        topics=tuple(t for t in topics if isinstance(t, str)),
        archived=bool(data.get("archived")),
    )


def _open_pr_urls(node: Mapping, repo: str) -> tuple[str, ...]:
    """Open pull requests that will close the issue, or are connected or cross-referenced to it.

    Timeline items come oldest first: a DisconnectedEvent undoes the ConnectedEvent before it.
    """
    urls: list[str] = []
    for pr in _nodes(
        node.get("closedByPullRequestsReferences"), "closedByPullRequestsReferences", repo
    ):
        if pr.get("state") == "OPEN" and isinstance(pr.get("url"), str):
            urls.append(pr["url"])
    linked: dict[str, bool] = {}
    for item in _nodes(node.get("timelineItems"), "timelineItems", repo):
        kind = item.get("__typename")
        ref = item.get("source") if kind == "CrossReferencedEvent" else item.get("subject")
        if not isinstance(ref, dict) or ref.get("__typename", "PullRequest") != "PullRequest":
            continue
        url = ref.get("url")
        if not isinstance(url, str):
            continue
        if kind == "DisconnectedEvent":
            linked.pop(url, None)
        elif kind in ("ConnectedEvent", "CrossReferencedEvent") and ref.get("state") == "OPEN":
            linked[url] = True
    urls.extend(linked)
    return tuple(dict.fromkeys(urls))


def _claim(comments: Iterable[dict], labels: Labels, now: datetime, repo: str):
    """The newest recent comment that claims the issue: (author, time) or (None, None)."""
    for comment in reversed(list(comments)):
        body = comment.get("body")
        if not isinstance(body, str) or not labels.is_claim(body):
            continue
        when = parse_time(comment.get("createdAt"), "comment createdAt", repo)
        if now - when <= timedelta(days=CLAIM_MAX_AGE_DAYS):
            author = comment.get("author")
            return (author.get("login") if isinstance(author, dict) else "ghost"), when
    return None, None


def _is_bot(kind: Any, login: Any) -> bool:
    """GraphQL names the author's type Bot; REST says type Bot and a login ending in [bot]."""
    return kind == "Bot" or (isinstance(login, str) and login.endswith("[bot]"))


def _association(value: Any) -> str | None:
    known = MAINTAINER_ASSOCIATIONS | OTHER_ASSOCIATIONS
    return value if isinstance(value, str) and value in known else None


def graphql_comment(node: Mapping, repo: str) -> Comment:
    """A comment node of the issues query (createdAt, authorAssociation, author's type)."""
    author = node.get("author")
    author = author if isinstance(author, dict) else {}  # null: a deleted account ("ghost")
    return Comment(
        created_at=parse_time(node.get("createdAt"), "comment createdAt", repo),
        association=_association(node.get("authorAssociation")),
        bot=_is_bot(author.get("__typename"), author.get("login")),
    )


def rest_comment(data: Any, repo: str = "") -> Comment:
    """A REST issue comment (GET /repos/{owner}/{repo}/issues/{n}/comments)."""
    if not isinstance(data, dict):
        raise MalformedResponseError(f"{repo}: comment payload is not an object")
    user = data.get("user")
    user = user if isinstance(user, dict) else {}
    return Comment(
        created_at=parse_time(data.get("created_at"), "comment created_at", repo),
        association=_association(data.get("author_association")),
        bot=_is_bot(user.get("type"), user.get("login")),
    )


def unanswered(comments: Iterable[Comment]) -> tuple[int, datetime | None]:
    """The newest comments from people who are not maintainers that no maintainer answered after:
    how many, and when the oldest of them was posted ((0, None) when a maintainer spoke last).

    Bots are passed over (a stale-bot ping is no answer, nor a question). A comment whose author
    association the payload does not give ends the count: it may be a maintainer's answer.
    """
    count, since = 0, None
    for comment in sorted(comments, key=lambda c: c.created_at, reverse=True):
        if comment.bot:
            continue
        if comment.association not in OTHER_ASSOCIATIONS:
            break
        count, since = count + 1, comment.created_at
    return count, since


def parse_issue(
    node: Any,
    meta: RepoMeta,
    labels: Labels,
    *,
    niches: tuple[str, ...] = (),
    now: datetime | None = None,
) -> tuple[Issue, IssueSignals]:
    """One issue node of the GraphQL query -> the Issue record and its extra signals."""
    repo = meta.repo
    if not isinstance(node, dict):
        raise MalformedResponseError(f"{repo}: issue node is not an object")
    now = now or datetime.now(UTC)
    number = _need(node, "number", int, repo)
    url = _need(node, "url", str, repo)
    title = _need(node, "title", str, repo)
    state = _need(node, "state", str, repo).lower()
    created = parse_time(node.get("createdAt"), f"#{number} createdAt", repo)
    updated = parse_time(node.get("updatedAt"), f"#{number} updatedAt", repo)
    label_names = tuple(
        n["name"]
        for n in _nodes(node.get("labels"), "labels", repo)
        if isinstance(n.get("name"), str)
    )
    assignees = tuple(
        n["login"]
        for n in _nodes(node.get("assignees"), "assignees", repo)
        if isinstance(n.get("login"), str)
    )
    comments_block = node.get("comments")
    if not isinstance(comments_block, dict) or not isinstance(
        comments_block.get("totalCount"), int
    ):
        raise MalformedResponseError(f"{repo}: #{number} comments block is malformed")
    comments = _nodes(comments_block, "comments", repo)
    claimed_by, claimed_at = _claim(comments, labels, now, repo)
    waiting, waiting_since = unanswered(graphql_comment(c, repo) for c in comments)
    last_comment = max(
        (parse_time(c.get("createdAt"), "comment createdAt", repo) for c in comments), default=None
    )
    reactions = node.get("reactions")
    issue = Issue(
        url=url,
        repo=repo,
        number=number,
        title=title,
        body=_of_type(node.get("body"), str, ""),
        labels=label_names,
        state=state,
        language=meta.language,
        created_at=created,
        updated_at=updated,
        comments=comments_block["totalCount"],
        assignees=assignees,
        linked_prs=_open_pr_urls(node, repo),
        claimed=claimed_by is not None,
        stars=meta.stars,
        topics=meta.topics,
        niches=niches,
        unanswered_comments=waiting,
        unanswered_since=waiting_since,
    )
    signals = IssueSignals(
        url=url,
        beginner_strength=labels.beginner_strength(label_names),
        reactions=reactions.get("totalCount", 0) if isinstance(reactions, dict) else 0,
        last_activity_at=max(updated, last_comment) if last_comment else updated,
        claimed_by=claimed_by,
        claimed_at=claimed_at,
    )
    return issue, signals


@dataclass(frozen=True)
class RateInfo:
    cost: int
    remaining: int | None
    reset_at: datetime | None


def parse_rate_limit(data: Any) -> RateInfo:
    """The `rateLimit { cost remaining resetAt }` block of a GraphQL answer."""
    if not isinstance(data, dict):
        return RateInfo(0, None, None)
    reset = data.get("resetAt")
    return RateInfo(
        cost=_of_type(data.get("cost"), int, 0),
        remaining=data.get("remaining") if isinstance(data.get("remaining"), int) else None,
        reset_at=parse_time(reset, "rateLimit.resetAt", "graphql")
        if isinstance(reset, str)
        else None,
    )


def is_pull_request(data: dict) -> bool:
    """REST lists pull requests among issues; old payloads carry an empty `pull_request`."""
    pr = data.get("pull_request")
    return isinstance(pr, dict) and bool(pr.get("html_url") or pr.get("url"))


def parse_rest_issue(
    data: Any, meta: RepoMeta | None = None, comments: Sequence[Any] = ()
) -> Issue:
    """A REST issue object (GET /repos/{owner}/{repo}/issues); pull requests are rejected.

    `comments`: its REST comment objects, when fetched, for the unanswered comments."""
    if not isinstance(data, dict) or not isinstance(data.get("number"), int):
        raise MalformedResponseError("issue payload has no 'number'")
    if is_pull_request(data):
        raise MalformedResponseError(f"#{data['number']} is a pull request, not an issue")
    repo_url = data.get("repository_url") or ""
    repo = meta.repo if meta else "/".join(repo_url.rstrip("/").split("/")[-2:])
    assignees = data.get("assignees") or ([data["assignee"]] if data.get("assignee") else [])
    waiting, waiting_since = unanswered(rest_comment(c, repo) for c in comments)
    return Issue(
        url=_need(data, "html_url", str, repo),
        repo=repo,
        number=data["number"],
        title=_need(data, "title", str, repo),
        body=data.get("body") or "",
        labels=tuple(
            x["name"] for x in data.get("labels") or [] if isinstance(x, dict) and "name" in x
        ),
        state=_need(data, "state", str, repo).lower(),
        language=meta.language if meta else None,
        created_at=parse_time(data.get("created_at"), "created_at", repo),
        updated_at=parse_time(data.get("updated_at"), "updated_at", repo),
        comments=_of_type(data.get("comments"), int, 0),
        assignees=tuple(a["login"] for a in assignees if isinstance(a, dict) and "login" in a),
        stars=meta.stars if meta else None,
        topics=meta.topics if meta else (),
        unanswered_comments=waiting,
        unanswered_since=waiting_since,
    )


def _of_type(value: object, kind: type[T], default: T) -> T:
    """`value` when it is a `kind`, else `default` (GitHub may answer null or another type)."""
    return value if isinstance(value, kind) else default
