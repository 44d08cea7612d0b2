"""A fake GitHub on 127.0.0.1 for tests: a real HTTP server with GraphQL and REST, state and faults.

    with FakeGitHub(token="ghp_test_token") as gh:        # random free port, daemon thread
        gh.seed(repos=3, issues_per_repo=5)               # deterministic ML-ish data
        Transport(gh.token, ...).post_json(gh.graphql_url, {...})
        gh.close_issue(url); gh.assign(url, "ada"); gh.link_pr(url); gh.add_comment(url, "/assign")
        gh.faults.add("secondary", count=2)               # next 2 requests: 403 + retry-after
        gh.stats.graphql, gh.stats.rest, gh.stats.not_modified

What it answers
- POST /graphql: parses and validates the query against the subset of GitHub's schema in
  `graphql_engine.SCHEMA` (unknown fields, arguments and variables are errors, as on GitHub),
  computes GitHub's cost, and executes it on the in-memory state. `rateLimit` reports the cost.
- REST (for PyGithub): GET /user, /users/{login}, /repos/{owner}/{name},
  /repos/{owner}/{name}/issues, /search/repositories (q with `topic:`, `stars:>=N`, `archived:`),
  /rate_limit. Link-header pagination (`per_page`, `page`), weak ETags and If-None-Match -> 304
  (free, as on GitHub), X-RateLimit-* headers, 401 "Bad credentials" for a wrong token.
- Payloads are built from the recorded exchanges in ../shared/github-examples/replay (so the shapes
  are GitHub's own) when that directory exists, and from small built-in templates otherwise.

Faults (`gh.faults.add(kind, count=1, target="any"|"graphql"|"rest", after=0)`), consumed one per
request once `after` matching requests went through:
  "secondary" 403 abuse message + Retry-After; "429" 429 + Retry-After; "primary" 403 with
  X-RateLimit-Remaining 0 and a reset `retry_after` seconds ahead; "502"; "500"; "timeout" (the
  answer is held back `hang_seconds`, longer than the client timeout, then dropped);
  "truncated" (200 whose JSON body is cut in half). `gh.corrupt_repos` holds repositories whose
  GraphQL issue and pull request nodes come back malformed (a per-repository, not per-run, error).
  A held "timeout" answer sets `gh.faults.holding` (a threading.Event) when it starts being held, so
  a test can act at that moment (e.g. SIGKILL the client); `gh.faults.release()` drops held answers
  at once (`stop()` does too).

`gh.stats.pages` logs every GraphQL `issues` connection the fake executed (also for answers held
back by a fault): `IssuePage(repo, first, after, since, returned, has_next)`.

Extension API (for other features' tests, e.g. portfolio routes):
- `gh.add_route(method, path_regex, handler)`: `handler(request: Request) -> Response | (status,
  body) | (status, body, headers)`; `body` is JSON-encoded unless bytes/str. Added routes are tried
  before the built-in ones; `request.match` holds the regex match, `request.query` the parsed
  query string (lists), `request.json()` the decoded body. Auth, faults, rate-limit headers and
  ETags apply to added routes too.
- `gh.state`: the shared in-memory `State` (repos, issues, users, `extra` dict for new features),
  guarded by `gh.state.lock` (an RLock; take it when mutating from a test thread).
- `gh.template(name)`: a deep copy of a GitHub payload template ("repo", "user", "issue",
  "search", "rate_limit", "pull"), taken from the replay files when present.
"""

from __future__ import annotations

import ast
import base64
import copy
import functools
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.fakes import graphql_engine as gql


def _shared_dir() -> Path:
    """../shared beside the checkout (as CI lays it), or beside the main checkout of a worktree."""
    root = Path(__file__).resolve().parents[2]
    candidates = [root.parent / "shared"]
    git = root / ".git"
    if git.is_file():  # a git worktree: "gitdir: <main>/.git/worktrees/<name>"
        gitdir = Path(git.read_text(encoding="utf-8").partition(":")[2].strip())
        candidates.append(gitdir.parents[2].parent / "shared")
    return next((c for c in candidates if c.is_dir()), candidates[0])


SHARED = _shared_dir()
EXAMPLES = SHARED / "github-examples" / "replay"
SCHEMA_PATH = SHARED / "github-schema" / "schema.graphql"
DOCS = "https://docs.github.com/rest"
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID 0000:1111."
)
PARTIAL_MESSAGE = (
    "Something went wrong while executing your query. This may be the result of a timeout, "
    "or it could be a GitHub bug. Please include `0000:2222` when reporting this issue."
)


@functools.cache
def real_schema() -> Any:
    """GitHub's public schema (graphql-core), or None when ../shared/github-schema is absent."""
    if not SCHEMA_PATH.is_file():
        return None
    import graphql

    return graphql.build_schema(SCHEMA_PATH.read_text(encoding="utf-8"), assume_valid_sdl=True)


def schema_errors(query: str, variables: dict[str, Any] | None = None) -> list[dict]:
    """What GitHub's schema refuses in a document and its variables (graphql-core), as errors."""
    from graphql.execution.values import get_variable_values

    if real_schema() is None:
        return []
    errors, operations = _document_errors(query)
    if errors:
        return list(errors)
    refused: list[dict] = []
    for definitions in operations:
        coerced = get_variable_values(real_schema(), definitions, variables or {})
        if isinstance(coerced, list):
            refused.extend(e.formatted for e in coerced)
    return refused


@functools.lru_cache(maxsize=256)
def _document_errors(query: str) -> tuple[tuple[dict, ...], tuple[Any, ...]]:
    """Validation errors of one document (cached: the sync sends few distinct texts)."""
    import graphql

    try:
        document = graphql.parse(query)
    except graphql.GraphQLError as exc:
        return (exc.formatted,), ()
    errors = tuple(e.formatted for e in graphql.validate(real_schema(), document))
    operations = tuple(
        d.variable_definitions or ()
        for d in document.definitions
        if isinstance(d, graphql.OperationDefinitionNode)
    )
    return errors, operations


# --------------------------------------------------------------------------------------------
# Recorded exchanges


@dataclass
class Exchange:
    method: str
    path: str
    request_headers: dict
    request_body: str | None
    status: int
    headers: list[tuple[str, str]]
    body: str

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def load_exchanges(name: str, root: Path = EXAMPLES) -> list[Exchange]:
    """The exchanges of one replay file (`Issue.setUp` or `Issue.setUp.txt`)."""
    path = root / (name if name.endswith(".txt") else f"{name}.txt")
    lines = path.read_text(encoding="utf-8").split("\n")
    out, i = [], 0
    while i < len(lines):
        if not lines[i].strip():
            i += 1
            continue
        block = lines[i : i + 10]
        if len(block) < 10:
            block += [""] * (10 - len(block))
        out.append(
            Exchange(
                method=block[1],
                path=block[4],
                request_headers=ast.literal_eval(block[5]),
                request_body=None if block[6] == "None" else block[6],
                status=int(block[7]),
                headers=ast.literal_eval(block[8]),
                body=block[9],
            )
        )
        i += 10
    return out


_MINIMAL = {
    "repo": {
        "id": 1,
        "node_id": "R_1",
        "name": "PyGithub",
        "full_name": "PyGithub/PyGithub",
        "private": False,
        "owner": {
            "login": "PyGithub",
            "id": 1,
            "type": "Organization",
            "url": "https://api.github.com/users/PyGithub",
        },
        "html_url": "https://github.com/PyGithub/PyGithub",
        "description": "",
        "fork": False,
        "url": "https://api.github.com/repos/PyGithub/PyGithub",
        "created_at": "2012-02-25T12:53:47Z",
        "updated_at": "2024-09-17T06:27:32Z",
        "stargazers_count": 0,
        "watchers_count": 0,
        "language": None,
        "archived": False,
        "topics": [],
        "open_issues_count": 0,
        "default_branch": "main",
    },
    "user": {
        "login": "jacquev6",
        "id": 327146,
        "type": "User",
        "name": "Vincent Jacques",
        "url": "https://api.github.com/users/jacquev6",
        "html_url": "https://github.com/jacquev6",
        "public_repos": 13,
    },
    "issue": {
        "url": "https://api.github.com/repos/PyGithub/PyGithub/issues/28",
        "number": 28,
        "html_url": "https://github.com/PyGithub/PyGithub/issues/28",
        "title": "",
        "user": {"login": "jacquev6"},
        "labels": [],
        "state": "open",
        "assignee": None,
        "assignees": [],
        "comments": 0,
        "created_at": "2012-05-19T10:38:23Z",
        "updated_at": "2012-05-19T10:38:23Z",
        "closed_at": None,
        "body": "",
    },
    "search": {"total_count": 0, "incomplete_results": False, "items": []},
    "rate_limit": {
        "resources": {
            "core": {"limit": 5000, "used": 0, "remaining": 5000, "reset": 0},
            "search": {"limit": 30, "used": 0, "remaining": 30, "reset": 0},
            "graphql": {"limit": 5000, "used": 0, "remaining": 5000, "reset": 0},
        },
        "rate": {"limit": 5000, "used": 0, "remaining": 5000, "reset": 0},
    },
    "bad_credentials": {"message": "Bad credentials", "documentation_url": DOCS},
    "not_found": {"message": "Not Found", "documentation_url": DOCS},
    "abuse": {
        "documentation_url": "https://developer.github.com/v3/#abuse-rate-limits",
        "message": "You have triggered an abuse detection mechanism. Please wait a few minutes "
        "before you try again.",
    },
    "primary": {"message": "API rate limit exceeded for user ID 1.", "documentation_url": DOCS},
    "server_error": {"error": "Server Error"},
}

_FROM_REPLAY = {
    "repo": ("Issue.setUp", 0),
    "issue": ("Issue.setUp", 1),
    "user": ("SpecificExceptions.testUnknownObject", 0),
    "search": ("Search.testSearchRepos", 0),
    "rate_limit": ("RateLimiting.testGetRateLimit", 0),
    "bad_credentials": ("SpecificExceptions.testBadCredentials", 0),
    "not_found": ("Exceptions.testUnknownUser", 0),
    "abuse": ("SpecificExceptions.testAuthenticatedRateLimitExceeded", 1),
    "server_error": ("Retry.testReturnsRepoAfter1Retry", 0),
}


def _templates() -> dict[str, Any]:
    found = copy.deepcopy(_MINIMAL)
    if not EXAMPLES.is_dir():
        return found
    for key, (name, index) in _FROM_REPLAY.items():
        try:
            found[key] = load_exchanges(name)[index].json()
        except (OSError, IndexError, ValueError, SyntaxError):
            pass
    return found


# --------------------------------------------------------------------------------------------
# State


@dataclass
class Comment:
    body: str
    author: str
    created_at: datetime
    author_association: str = "NONE"


@dataclass
class PullRef:
    url: str
    number: int
    state: str = "OPEN"  # OPEN, CLOSED, MERGED
    kind: str = "closing"  # closing (closedByPullRequestsReferences), connected, cross
    disconnected: bool = False  # a "connected" link later removed (DisconnectedEvent)


@dataclass
class FakePull:
    """A pull request of a repository (the welcoming signal reads these)."""

    number: int
    created_at: datetime
    author_association: str = "NONE"
    merged_at: datetime | None = None
    state: str = "OPEN"  # OPEN, CLOSED, MERGED

    @property
    def updated_at(self) -> datetime:
        return self.merged_at or self.created_at


@dataclass
class Repo:
    full_name: str
    description: str = ""
    stars: int = 0
    language: str | None = "Python"
    topics: list[str] = field(default_factory=list)
    archived: bool = False
    id: int = 0
    pulls: list[FakePull] = field(default_factory=list)


@dataclass
class FakeIssue:
    repo: str
    number: int
    title: str
    body: str
    labels: list[str]
    created_at: datetime
    updated_at: datetime
    state: str = "OPEN"
    author: str = "octocat"
    author_association: str = "NONE"
    assignees: list[str] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    reactions: int = 0
    prs: list[PullRef] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"https://github.com/{self.repo}/issues/{self.number}"


@dataclass
class Budget:
    limit: int = 5000
    remaining: int = 5000
    reset: int = 0


@dataclass
class State:
    repos: dict[str, Repo] = field(default_factory=dict)
    issues: dict[str, FakeIssue] = field(default_factory=dict)  # by html url
    users: dict[str, dict] = field(default_factory=dict)
    budgets: dict[str, Budget] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    clock: datetime = field(
        default_factory=lambda: datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
    )

    def tick(self) -> datetime:
        """A strictly increasing 'now' for mutations (one second per change)."""
        self.clock += timedelta(seconds=1)
        return self.clock

    def budget(self, resource: str) -> Budget:
        if resource not in self.budgets:
            self.budgets[resource] = Budget(reset=int(time.time()) + 3600)
        return self.budgets[resource]

    def repo_issues(self, repo: str) -> list[FakeIssue]:
        return [i for i in self.issues.values() if i.repo.lower() == repo.lower()]


@dataclass
class Fault:
    kind: str
    count: int
    target: str = "any"
    after: int = 0  # matching requests to let through first


class Faults:
    """Switches that make the next requests fail; each consumed fault answers one request."""

    KINDS = (
        "secondary",
        "429",
        "primary",
        "502",
        "500",
        "timeout",
        "truncated",
        "graphql_rate_limit",  # 200 + errors[type RATE_LIMIT], headers not saying remaining 0
        "secondary200",  # 200 + errors whose message says "secondary rate limit"
        "partial",  # 200 whose first repository's second issue has an error inside it
    )
    APPLIED_LATER = ("truncated", "timeout", "partial")

    def __init__(self) -> None:
        self._queue: list[Fault] = []
        self._lock = threading.Lock()
        self.retry_after = 1
        self.hang_seconds = 3.0
        self.served: list[str] = []
        self.holding = threading.Event()  # set when a "timeout" answer starts being held back
        self._release = threading.Event()

    def release(self) -> None:
        """Drop every answer held back by a "timeout" fault now instead of after `hang_seconds`."""
        self._release.set()

    def hold(self) -> None:
        """The handler of a "timeout" answer: signal, then wait `hang_seconds` or a release."""
        self.holding.set()
        self._release.wait(self.hang_seconds)

    def add(self, kind: str, count: int = 1, target: str = "any", after: int = 0) -> None:
        """Answer `count` requests to `target` with `kind`, after letting `after` through."""
        if kind not in self.KINDS:
            raise ValueError(f"unknown fault {kind!r}; one of {self.KINDS}")
        with self._lock:
            self._queue.append(Fault(kind, count, target, after))

    def clear(self) -> None:
        with self._lock:
            self._queue.clear()

    def take(self, target: str) -> str | None:
        with self._lock:
            for fault in self._queue:
                if fault.target in ("any", target) and fault.after > 0:
                    fault.after -= 1
                    return None
                if fault.target in ("any", target):
                    fault.count -= 1
                    if fault.count <= 0:
                        self._queue.remove(fault)
                    self.served.append(fault.kind)
                    return fault.kind
        return None

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(f.count for f in self._queue)


@dataclass(frozen=True)
class IssuePage:
    """One GraphQL `issues` connection the fake executed: which repository, which page, how many."""

    repo: str
    first: int | None
    after: str | None
    since: str | None  # None: no `since` filter (a full pass)
    returned: int
    has_next: bool


@dataclass
class Counters:
    graphql: int = 0
    rest: int = 0
    not_modified: int = 0
    graphql_points: int = 0
    log: list[tuple[str, str, int]] = field(default_factory=list)
    # every GraphQL query charged: (operation name, points, GitHub's node count)
    queries: list[tuple[str, int, int]] = field(default_factory=list)
    pages: list[IssuePage] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.graphql + self.rest


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    match: re.Match | None = None
    fault: str | None = None

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Response:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# The server

_ML_WORDS = [
    "tokenizer",
    "dataloader",
    "docstring",
    "CUDA kernel",
    "type hints",
    "unit test",
    "notebook",
    "benchmark",
    "logging",
    "CLI flag",
    "metric",
    "augmentation",
    "scheduler",
    "checkpoint",
    "quantization",
    "plotting",
    "README",
    "example script",
    "error message",
    "deprecation warning",
]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class FakeGitHub:
    """The fake GitHub server; see the module docstring."""

    def __init__(self, token: str = "ghp_fake_token_for_tests", *, host: str = "127.0.0.1"):
        self.token = token
        self.state = State()
        self.faults = Faults()
        self.stats = Counters()
        self.corrupt_repos: set[str] = set()
        # Heavy queries: above `heavy_nodes` GitHub's nodes, answer `heavy_answer` ("502", "504",
        # "timeout" or "resource_limits"); `heavy_seen` logs the node count of every such refusal.
        self.heavy_nodes: int | None = None
        self.heavy_answer = "502"
        self.heavy_seen: list[int] = []
        self.root_fields: dict[str, Callable[[dict], Any]] = {}  # extra Query fields (portfolio)
        self.renames: dict[str, str] = {}  # old full name (lower) -> new full name
        self._templates = _templates()
        self._routes: list[tuple[str, re.Pattern, Callable]] = []
        self._builtin: list[tuple[str, re.Pattern, Callable]] = [
            ("POST", re.compile(r"^/graphql$"), self._graphql),
            ("GET", re.compile(r"^/user$"), self._get_viewer),
            ("GET", re.compile(r"^/users/(?P<login>[^/]+)$"), self._get_user),
            ("GET", re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)$"), self._get_repo),
            (
                "GET",
                re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)/issues$"),
                self._get_issues,
            ),
            ("GET", re.compile(r"^/search/repositories$"), self._search_repos),
            ("GET", re.compile(r"^/rate_limit$"), self._rate_limit),
        ]
        server = self
        handler = type("Handler", (_Handler,), {"fake": server})
        self._httpd = ThreadingHTTPServer((host, 0), handler)
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    def start(self) -> FakeGitHub:
        real_schema()  # built once per process, before the first request can time out on it
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-github",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.faults.release()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- extension API --------------------------------------------------------------------------

    def add_route(self, method: str, path_regex: str, handler: Callable[[Request], Any]) -> None:
        """Serve `method` on paths matching `path_regex` (tried before the built-in routes)."""
        self._routes.append((method.upper(), re.compile(path_regex), handler))

    def template(self, name: str) -> Any:
        """A deep copy of a GitHub payload template (from the replay files when present)."""
        return copy.deepcopy(self._templates[name])

    # -- state helpers --------------------------------------------------------------------------

    def add_repo(self, full_name: str, **fields: Any) -> Repo:
        with self.state.lock:
            repo = Repo(full_name, id=1000 + len(self.state.repos), **fields)
            self.state.repos[full_name.lower()] = repo
            return repo

    def add_issue(
        self,
        repo: str,
        title: str,
        *,
        labels=("good first issue",),
        body: str = "",
        updated_at: datetime | None = None,
        **fields: Any,
    ) -> FakeIssue:
        with self.state.lock:
            number = 1 + max((i.number for i in self.state.repo_issues(repo)), default=0)
            when = updated_at or self.state.tick()
            issue = FakeIssue(
                repo=self.state.repos[repo.lower()].full_name,
                number=number,
                title=title,
                body=body,
                labels=list(labels),
                created_at=fields.pop("created_at", when),
                updated_at=when,
                **fields,
            )
            self.state.issues[issue.url] = issue
            return issue

    def seed(self, repos: int = 50, issues_per_repo: int = 20, *, noise: int = 2) -> list[str]:
        """Deterministic data: `repos` ML-ish repositories with `issues_per_repo` beginner issues
        each (mixed beginner labels), plus `noise` non-beginner and closed issues per repository
        that a correct client never stores. Returns the repository names."""
        beginner = ["good first issue", "good-first-issue", "help wanted", "documentation", "easy"]
        names = []
        base = self.state.clock - timedelta(days=30)
        for r in range(repos):
            name = f"ml-org{r % 7}/project-{r:03d}"
            self.add_repo(
                name,
                description=f"Project {r}: a library for {_ML_WORDS[r % 20]}s",
                stars=100 * (r + 1),
                language=["Python", "C++", "Rust"][r % 3],
                topics=["machine-learning", ["nlp", "vision", "deep-learning"][r % 3]],
            )
            names.append(name)
            for k in range(issues_per_repo):
                word = _ML_WORDS[(r + k) % len(_ML_WORDS)]
                self.add_issue(
                    name,
                    f"Improve the {word} of project {r} (task {k})",
                    labels=[beginner[k % len(beginner)], "enhancement"],
                    body=f"The {word} needs work. Steps: read the code, add a test, open a PR. "
                    f"#{k}",
                    updated_at=base + timedelta(minutes=r * 100 + k),
                    reactions=k % 3,
                )
            for k in range(noise):
                self.add_issue(
                    name,
                    f"Hard refactor {k} of project {r}",
                    labels=["bug", "difficulty: hard"],
                    updated_at=base + timedelta(minutes=r * 100 + 50 + k),
                )
                closed = self.add_issue(
                    name,
                    f"Old beginner task {k} of project {r}",
                    labels=["good first issue"],
                    updated_at=base + timedelta(minutes=r * 100 + 60 + k),
                )
                closed.state = "CLOSED"
        return names

    def _touch(self, url: str) -> FakeIssue:
        issue = self.state.issues[url]
        issue.updated_at = self.state.tick()
        return issue

    def close_issue(self, url: str) -> None:
        with self.state.lock:
            self._touch(url).state = "CLOSED"

    def reopen_issue(self, url: str) -> None:
        with self.state.lock:
            self._touch(url).state = "OPEN"

    def assign(self, url: str, login: str = "someone") -> None:
        with self.state.lock:
            self._touch(url).assignees.append(login)

    def link_pr(self, url: str, kind: str = "closing", state: str = "OPEN") -> str:
        """Link a pull request: 'closing' (closes #N), 'connected' (sidebar), 'cross' (mention)."""
        with self.state.lock:
            issue = self._touch(url)
            number = 10000 + len(issue.prs) + issue.number * 10
            pr = PullRef(f"https://github.com/{issue.repo}/pull/{number}", number, state, kind)
            issue.prs.append(pr)
            return pr.url

    def disconnect_pr(self, url: str, pr_url: str) -> None:
        """Remove a sidebar link: the timeline gets a DisconnectedEvent after the ConnectedEvent."""
        with self.state.lock:
            issue = self._touch(url)
            for pr in issue.prs:
                if pr.url == pr_url:
                    pr.disconnected = True

    def rename_repo(self, old: str, new: str) -> None:
        """Rename a repository; the old name keeps answering with the new one (followRenames)."""
        with self.state.lock:
            repo = self.state.repos.pop(old.lower())
            repo.full_name = new
            self.state.repos[new.lower()] = repo
            self.renames[old.lower()] = new
            for issue in self.state.issues.values():
                if issue.repo.lower() == old.lower():
                    issue.repo = new

    def add_comment(
        self,
        url: str,
        text: str,
        author: str = "learner42",
        association: str = "NONE",
        at: datetime | None = None,
    ) -> None:
        """A comment now (or `at`, which then is the issue's last activity); an author whose
        login ends in [bot] is a GitHub App, which GraphQL names a Bot without the suffix."""
        with self.state.lock:
            issue = self._touch(url)
            if at is not None:
                issue.updated_at = at
            issue.comments.append(Comment(text, author, issue.updated_at, association))

    def edit_issue(self, url: str, **fields: Any) -> None:
        with self.state.lock:
            issue = self._touch(url)
            for key, value in fields.items():
                setattr(issue, key, value)

    # -- HTTP plumbing ----------------------------------------------------------------------------

    def dispatch(self, req: Request) -> tuple[Response, str | None]:
        """Route a request; returns the response and the fault to apply (None if none)."""
        is_graphql = req.path == "/graphql"
        target = "graphql" if is_graphql else "rest"
        resource = (
            "graphql" if is_graphql else ("search" if req.path.startswith("/search/") else "core")
        )
        if not self._authorized(req):
            return Response(401, self.template("bad_credentials")), None
        fault = self.faults.take(target)
        with self.state.lock:
            if is_graphql:
                self.stats.graphql += 1
            else:
                self.stats.rest += 1
            if fault and fault not in self.faults.APPLIED_LATER:
                return self._fault_response(fault, resource), fault
            req.fault = fault
            budget = self.state.budget(resource)
            for method, pattern, handler in self._routes + self._builtin:
                m = pattern.match(req.path)
                if m and method == req.method:
                    req.match = m
                    result = handler(req)
                    response = result if isinstance(result, Response) else Response(*result)
                    break
            else:
                response = Response(404, self.template("not_found"))
            if response.status == 200 and req.method == "GET":
                etag = 'W/"' + hashlib.sha256(_encode(response.body)).hexdigest() + '"'
                response.headers.setdefault("ETag", etag)
                if req.headers.get("if-none-match") == response.headers["ETag"]:
                    self.stats.not_modified += 1
                    response = Response(304, b"", {"ETag": etag})
                elif not is_graphql:
                    budget.remaining = max(0, budget.remaining - 1)
            elif not is_graphql and response.status < 500:
                budget.remaining = max(0, budget.remaining - 1)
            response.headers.update(self._limit_headers(resource))
            return response, req.fault or fault

    def _authorized(self, req: Request) -> bool:
        value = req.headers.get("authorization", "")
        scheme, _, token = value.partition(" ")
        return scheme.lower() in ("token", "bearer") and token.strip() == self.token

    def _limit_headers(self, resource: str) -> dict[str, str]:
        b = self.state.budget(resource)
        return {
            "X-RateLimit-Limit": str(b.limit),
            "X-RateLimit-Remaining": str(b.remaining),
            "X-RateLimit-Reset": str(b.reset),
            "X-RateLimit-Used": str(b.limit - b.remaining),
            "X-RateLimit-Resource": resource,
        }

    def _fault_response(self, fault: str, resource: str) -> Response:
        wait = str(self.faults.retry_after)
        if fault == "graphql_rate_limit":
            headers = self._limit_headers(resource)
            headers["X-RateLimit-Reset"] = str(int(time.time()) + self.faults.retry_after)
            message = "API rate limit already exceeded for user ID 1234567."
            error = {"type": "RATE_LIMIT", "code": "graphql_rate_limit", "message": message}
            return Response(200, {"errors": [error]}, headers)
        if fault == "secondary200":
            return Response(200, {"errors": [{"message": SECONDARY_MESSAGE}]})
        if fault == "secondary":
            return Response(403, self.template("abuse"), {"Retry-After": wait})
        if fault == "429":
            return Response(
                429,
                {"message": "You have exceeded a secondary rate limit.", "documentation_url": DOCS},
                {"Retry-After": wait},
            )
        if fault == "primary":
            b = self.state.budget(resource)
            headers = self._limit_headers(resource)
            headers.update(
                {
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset": str(int(time.time()) + self.faults.retry_after),
                }
            )
            del b  # the budget itself is not spent; the header says it is, for one answer
            return Response(403, self.template("primary"), headers)
        return Response(int(fault), self.template("server_error"))

    # -- REST handlers ----------------------------------------------------------------------------

    def _rewrite(self, payload: Any, mapping: dict[str, str]) -> Any:
        text = json.dumps(payload)
        for old, new in mapping.items():
            text = text.replace(old, new)
        return json.loads(text)

    def repo_payload(self, repo: Repo) -> dict:
        """A REST repository object shaped like GitHub's (from the recorded template)."""
        template = self.template("repo")
        old = template.get("full_name", "PyGithub/PyGithub")
        owner, name = repo.full_name.split("/")
        data = self._rewrite(
            template,
            {
                old: repo.full_name,
                "https://api.github.com": self.url,
                f'/{old.split("/")[0]}"': f'/{owner}"',
            },
        )
        data.update(
            id=repo.id,
            name=name,
            full_name=repo.full_name,
            description=repo.description,
            stargazers_count=repo.stars,
            watchers_count=repo.stars,
            language=repo.language,
            topics=list(repo.topics),
            archived=repo.archived,
            open_issues_count=sum(
                i.state == "OPEN" for i in self.state.repo_issues(repo.full_name)
            ),
        )
        if isinstance(data.get("owner"), dict):
            data["owner"]["login"] = owner
        data.pop("parent", None)
        data.pop("source", None)
        return data

    def user_payload(self, login: str) -> dict:
        data = self._rewrite(self.template("user"), {"https://api.github.com": self.url})
        old = data.get("login", "")
        data = self._rewrite(data, {f"/{old}": f"/{login}"}) if old else data
        data.update(login=login, **self.state.users.get(login, {}))
        return data

    def _get_viewer(self, req: Request) -> Response:
        return Response(200, self.user_payload(self.state.extra.get("viewer", "fake-viewer")))

    def _get_user(self, req: Request) -> Response:
        login = req.match["login"]
        if login not in self.state.users:
            return Response(404, self.template("not_found"))
        return Response(200, self.user_payload(login))

    def _get_repo(self, req: Request) -> Response:
        repo = self.state.repos.get(f"{req.match['owner']}/{req.match['name']}".lower())
        if repo is None:
            return Response(404, self.template("not_found"))
        return Response(200, self.repo_payload(repo))

    def issue_payload(self, issue: FakeIssue) -> dict:
        data = self._rewrite(self.template("issue"), {"https://api.github.com": self.url})
        data.update(
            url=f"{self.url}/repos/{issue.repo}/issues/{issue.number}",
            repository_url=f"{self.url}/repos/{issue.repo}",
            html_url=issue.url,
            number=issue.number,
            title=issue.title,
            body=issue.body,
            state=issue.state.lower(),
            labels=[{"name": n, "color": "7057ff", "default": False} for n in issue.labels],
            assignee={"login": issue.assignees[0]} if issue.assignees else None,
            assignees=[{"login": a} for a in issue.assignees],
            comments=len(issue.comments),
            created_at=_iso(issue.created_at),
            updated_at=_iso(issue.updated_at),
            closed_at=None if issue.state == "OPEN" else _iso(issue.updated_at),
        )
        for key in ("pull_request", "milestone", "closed_by"):
            data.pop(key, None)
        return data

    def _get_issues(self, req: Request) -> Response:
        repo = f"{req.match['owner']}/{req.match['name']}"
        if repo.lower() not in self.state.repos:
            return Response(404, self.template("not_found"))
        state = req.query.get("state", ["open"])[0]
        issues = [
            i for i in self.state.repo_issues(repo) if state == "all" or i.state.lower() == state
        ]
        issues.sort(key=lambda i: i.created_at, reverse=True)
        return self._paged(req, [self.issue_payload(i) for i in issues], envelope=None)

    def _search_repos(self, req: Request) -> Response:
        q = req.query.get("q", [""])[0]
        topics, words, min_stars, archived = [], [], 0, None
        for term in q.split():
            if term.startswith("topic:"):
                topics.append(term[6:].lower())
            elif term.startswith("stars:"):
                m = re.match(r"stars:(>=|>)?(\d+)", term)
                if m:
                    min_stars = int(m[2]) + (1 if m[1] == ">" else 0)
            elif term.startswith("archived:"):
                archived = term.endswith("true")
            elif ":" in term:
                return Response(
                    422,
                    {
                        "message": "Validation Failed",
                        "errors": [{"message": f"unsupported qualifier in this fake: {term}"}],
                        "documentation_url": DOCS,
                    },
                )
            else:
                words.append(term.lower())
        found = [
            r
            for r in self.state.repos.values()
            if all(t in [x.lower() for x in r.topics] for t in topics)
            and r.stars >= min_stars
            and (archived is None or r.archived == archived)
            and all(w in (r.full_name + " " + r.description).lower() for w in words)
        ]
        found.sort(key=lambda r: (-r.stars, r.full_name))
        items = []
        for r in found:
            item = self.repo_payload(r)
            item["score"] = 1.0
            items.append(item)
        return self._paged(req, items, envelope=self.template("search"))

    def _paged(self, req: Request, items: list, envelope: dict | None) -> Response:
        per_page = max(1, min(100, int(req.query.get("per_page", ["30"])[0])))
        page = max(1, int(req.query.get("page", ["1"])[0]))
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []

        def link(n: int, rel: str) -> str:
            query = {k: v[0] for k, v in req.query.items()}
            query["page"] = str(n)
            return f'<{self.url}{req.path}?{urlencode(query)}>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        headers = {"Link": ", ".join(links)} if links else {}
        if envelope is None:
            return Response(200, chunk, headers)
        body = dict(envelope)
        body.update(total_count=len(items), incomplete_results=False, items=chunk)
        return Response(200, body, headers)

    def _rate_limit(self, req: Request) -> Response:
        data = self.template("rate_limit")
        for name, res in data.get("resources", {}).items():
            if isinstance(res, dict):
                b = self.state.budget(name)
                res.update(
                    limit=b.limit, remaining=b.remaining, used=b.limit - b.remaining, reset=b.reset
                )
        core = self.state.budget("core")
        data["rate"] = {
            "limit": core.limit,
            "remaining": core.remaining,
            "used": core.limit - core.remaining,
            "reset": core.reset,
        }
        return Response(200, data)

    # -- GraphQL --------------------------------------------------------------------------------

    def _graphql(self, req: Request) -> Response:
        try:
            payload = req.json()
        except ValueError:
            return Response(400, {"message": "Problems parsing JSON", "documentation_url": DOCS})
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return Response(
                200,
                {
                    "errors": [
                        {"message": "A query attribute must be specified and must be a string."}
                    ]
                },
            )
        variables = payload.get("variables") or {}
        refused = schema_errors(payload["query"], variables)
        if refused:  # what GitHub's public schema refuses, the fake refuses too
            return Response(200, {"errors": refused})
        try:
            doc = gql.parse(payload["query"])
        except gql.GraphQLSyntaxError as exc:
            return Response(200, {"errors": [{"message": str(exc)}]})
        if len(doc.operations) != 1:
            return Response(
                200, {"errors": [{"message": "This fake runs exactly one operation per document"}]}
            )
        op = doc.operations[0]
        errors = gql.validate(doc, op)
        if errors:
            return Response(200, {"errors": errors})
        points, nodes, errors = gql.measure(doc, op, variables)
        if errors:
            return Response(200, {"errors": errors})
        budget = self.state.budget("graphql")
        if budget.remaining < points:
            return Response(
                200, {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]}
            )
        heavy = self.heavy_nodes is not None and nodes > self.heavy_nodes
        if heavy and self.heavy_answer != "resource_limits":
            # GitHub gave up after its 10 s budget; the timeout still costs points
            self.heavy_seen.append(nodes)
            budget.remaining -= points
            self.stats.graphql_points += points
            self.stats.queries.append((op.name or "", points, nodes))
            if self.heavy_answer == "timeout":
                req.fault = "timeout"
                return Response(504, self.template("server_error"))
            return Response(int(self.heavy_answer), self.template("server_error"))
        budget.remaining -= points
        self.stats.graphql_points += points
        self.stats.queries.append((op.name or "", points, nodes))
        root = self._root(points)
        data, errors = gql.execute(doc, op, root, variables)
        if heavy:
            self.heavy_seen.append(nodes)
            errors.append(self._cut_to_limit(data, nodes))
        if req.fault == "partial":
            errors.extend(_break_one_issue(data))
        body: dict[str, Any] = {"data": data}
        if errors:
            body["errors"] = errors
        return Response(200, body)

    def _cut_to_limit(self, data: dict, nodes: int) -> dict:
        """RESOURCE_LIMITS_EXCEEDED: keep the repositories that fit under the limit, null others."""
        aliases = [k for k in data if re.fullmatch(r"r\d+", k)]
        share = nodes / max(1, len(aliases))
        keep = int((self.heavy_nodes or 0) // share) if share else 0
        for alias in aliases[keep:]:
            data[alias] = None
        return {
            "type": "RESOURCE_LIMITS_EXCEEDED",
            "message": "Resource limits for this query exceeded.",
        }

    def _root(self, points: int) -> gql.Obj:
        budget = self.state.budget("graphql")
        rate = gql.Obj(
            "RateLimit",
            cost=points,
            remaining=budget.remaining,
            limit=budget.limit,
            used=budget.limit - budget.remaining,
            nodeCount=0,
            resetAt=_iso(datetime.fromtimestamp(budget.reset, UTC)),
        )

        def repository(args):
            full = f"{args.get('owner')}/{args.get('name')}"
            full = self.renames.get(full.lower(), full)  # followRenames defaults to true
            repo = self.state.repos.get(full.lower())
            if repo is None:
                raise gql.ExecutionError(
                    f"Could not resolve to a Repository with the name '{full}'.", "NOT_FOUND"
                )
            return self._repo_obj(repo)

        return gql.Obj(
            "Query",
            rateLimit=rate,
            repository=repository,
            viewer=gql.Obj("User", login="fake-viewer"),
            **self.root_fields,
        )

    def _repo_obj(self, repo: Repo) -> gql.Obj:
        owner, name = repo.full_name.split("/")

        def topics(args):
            nodes = [
                gql.Obj("RepositoryTopic", topic=gql.Obj("Topic", name=t)) for t in repo.topics
            ]
            return _list_connection("RepositoryTopic", nodes, args)

        def issues(args):
            return self._issue_connection(repo, args)

        def issue(args):
            found = [
                i for i in self.state.repo_issues(repo.full_name) if i.number == args["number"]
            ]
            if not found:
                raise gql.ExecutionError(
                    f"Could not resolve to an Issue with the number of {args['number']}.",
                    "NOT_FOUND",
                )
            return self._issue_obj(found[0])

        def pull_requests(args):
            return self._pull_connection(repo, args)

        return gql.Obj(
            "Repository",
            id=f"R_{repo.id}",
            name=name,
            nameWithOwner=repo.full_name,
            url=f"https://github.com/{repo.full_name}",
            description=repo.description or None,
            stargazerCount=repo.stars,
            isArchived=repo.archived,
            isFork=False,
            owner=gql.Obj("User", login=owner),
            primaryLanguage=gql.Obj("Language", name=repo.language) if repo.language else None,
            repositoryTopics=topics,
            issues=issues,
            issue=issue,
            pullRequests=pull_requests,
        )

    def _pull_connection(self, repo: Repo, args: dict) -> gql.Obj:
        states = set(args.get("states") or ())
        order = args.get("orderBy") or {"field": "CREATED_AT", "direction": "ASC"}
        if order.get("field") not in ("CREATED_AT", "UPDATED_AT"):
            raise gql.ExecutionError(
                f"Unknown IssueOrderField {order.get('field')!r}", "INVALID_ARGUMENT"
            )
        pulls = [p for p in repo.pulls if not states or p.state in states]
        key = "created_at" if order["field"] == "CREATED_AT" else "updated_at"
        pulls.sort(key=lambda p: (getattr(p, key), p.number), reverse=order["direction"] == "DESC")
        corrupt = repo.full_name.lower() in {r.lower() for r in self.corrupt_repos}
        nodes = [
            gql.Obj(
                "PullRequest",
                url=f"https://github.com/{repo.full_name}/pull/{p.number}",
                number=p.number,
                state=p.state,
                createdAt="yesterday" if corrupt else _iso(p.created_at),
                updatedAt=_iso(p.updated_at),
                merged=p.merged_at is not None,
                mergedAt=_iso(p.merged_at) if p.merged_at else None,
                authorAssociation=p.author_association,
            )
            for p in pulls
        ]
        return _list_connection("PullRequest", nodes, args)

    def _issue_connection(self, repo: Repo, args: dict) -> gql.Obj:
        filters = dict(args.get("filterBy") or {})
        states = args.get("states") or filters.get("states")
        labels = args.get("labels") or filters.get("labels")
        since = filters.get("since")
        order = args.get("orderBy") or {"field": "CREATED_AT", "direction": "ASC"}
        if order.get("field") not in ("CREATED_AT", "UPDATED_AT", "COMMENTS"):
            raise gql.ExecutionError(
                f"Unknown IssueOrderField {order.get('field')!r}", "INVALID_ARGUMENT"
            )
        since_dt = None
        if since is not None:
            try:
                since_dt = datetime.fromisoformat(str(since).replace("Z", "+00:00"))
            except ValueError:
                raise gql.ExecutionError(
                    f"Argument 'since' is not a DateTime: {since!r}", "INVALID_ARGUMENT"
                ) from None
        wanted = {x.lower() for x in labels} if labels is not None else None
        pool = [
            i
            for i in self.state.repo_issues(repo.full_name)
            if (states is None or i.state in states)
            and (wanted is None or any(x.lower() in wanted for x in i.labels))
            and (since_dt is None or i.updated_at >= since_dt)
        ]
        attr = {"CREATED_AT": "created_at", "UPDATED_AT": "updated_at"}.get(order["field"])
        descending = order.get("direction") == "DESC"

        def key(i: FakeIssue):
            value = getattr(i, attr).timestamp() if attr else len(i.comments)
            return (value, i.number)

        pool.sort(key=key, reverse=descending)
        keys = [key(i) for i in pool]
        nodes, cursors, info = gql.paginate(
            pool, keys, args, _encode_cursor, _decode_cursor, descending=descending
        )
        corrupt = repo.full_name.lower() in {r.lower() for r in self.corrupt_repos}
        objs = [self._issue_obj(i, corrupt) for i in nodes]
        self.stats.pages.append(
            IssuePage(
                repo.full_name,
                args.get("first"),
                args.get("after"),
                since,
                len(nodes),
                bool(info.fields["hasNextPage"]),
            )
        )
        return gql.Obj(
            "IssueConnection",
            totalCount=len(pool),
            pageInfo=info,
            nodes=objs,
            edges=[
                gql.Obj("IssueEdge", cursor=c, node=o) for c, o in zip(cursors, objs, strict=True)
            ],
        )

    def _issue_obj(self, issue: FakeIssue, corrupt: bool = False) -> gql.Obj:
        def labels(args):
            return _list_connection(
                "Label", [gql.Obj("Label", name=n, color="7057ff") for n in issue.labels], args
            )

        def assignees(args):
            return _list_connection(
                "User", [gql.Obj("User", login=a) for a in issue.assignees], args
            )

        def comments(args):
            nodes = [
                gql.Obj(
                    "IssueComment",
                    body=c.body,
                    createdAt=_iso(c.created_at),
                    updatedAt=_iso(c.created_at),
                    author=_actor(c.author),
                    authorAssociation=c.author_association,
                )
                for c in issue.comments
            ]
            return _list_connection("IssueComment", nodes, args)

        def reactions(args):
            return _list_connection(
                "Reaction", [gql.Obj("Reaction", content="THUMBS_UP")] * issue.reactions, args
            )

        def pr_obj(pr: PullRef) -> gql.Obj:
            return gql.Obj(
                "PullRequest",
                url=pr.url,
                number=pr.number,
                state=pr.state,
                title=f"Fix #{issue.number}",
                isDraft=False,
                merged=pr.state == "MERGED",
            )

        def closing(args):
            prs = [
                p
                for p in issue.prs
                if p.kind == "closing" and (args.get("includeClosedPrs") or p.state == "OPEN")
            ]
            return _list_connection("PullRequest", [pr_obj(p) for p in prs], args)

        def timeline(args):
            types = set(args.get("itemTypes") or ["CONNECTED_EVENT", "CROSS_REFERENCED_EVENT"])
            items = []
            for p in issue.prs:
                if p.kind == "connected" and "CONNECTED_EVENT" in types:
                    items.append(
                        gql.Obj(
                            "ConnectedEvent", subject=pr_obj(p), createdAt=_iso(issue.updated_at)
                        )
                    )
                    if p.disconnected and "DISCONNECTED_EVENT" in types:
                        items.append(
                            gql.Obj(
                                "DisconnectedEvent",
                                subject=pr_obj(p),
                                createdAt=_iso(issue.updated_at),
                            )
                        )
                elif p.kind in ("cross", "closing") and "CROSS_REFERENCED_EVENT" in types:
                    items.append(
                        gql.Obj(
                            "CrossReferencedEvent",
                            source=pr_obj(p),
                            willCloseTarget=p.kind == "closing",
                            isCrossRepository=False,
                            createdAt=_iso(issue.updated_at),
                        )
                    )
            return _list_connection("IssueTimelineItems", items, args)

        return gql.Obj(
            "Issue",
            id=f"I_{abs(hash(issue.url)) % 10**9}",
            number=issue.number,
            url=issue.url,
            title=None if corrupt else issue.title,
            body=issue.body,
            state=issue.state,
            createdAt=_iso(issue.created_at),
            updatedAt="yesterday" if corrupt else _iso(issue.updated_at),
            closedAt=None if issue.state == "OPEN" else _iso(issue.updated_at),
            locked=False,
            author=gql.Obj("User", login=issue.author),
            authorAssociation=issue.author_association,
            labels=labels,
            assignees=assignees,
            comments=comments,
            reactions=reactions,
            closedByPullRequestsReferences=closing,
            timelineItems=timeline,
        )


def _actor(login: str) -> gql.Obj:
    """A comment's author as GraphQL gives it: a Bot (login without [bot]) or a User."""
    if login.endswith("[bot]"):
        return gql.Obj("Bot", login=login.removesuffix("[bot]"))
    return gql.Obj("User", login=login)


def _break_one_issue(data: dict) -> list[dict]:
    """The "partial" fault: the second issue of r0 loses its timeline to an error inside it."""
    nodes = ((data.get("r0") or {}).get("issues") or {}).get("nodes") or []
    if len(nodes) < 2 or not isinstance(nodes[1], dict):
        return []
    nodes[1]["timelineItems"] = None
    path = ["r0", "issues", "nodes", 1, "timelineItems"]
    return [{"type": "SERVICE_UNAVAILABLE", "path": path, "message": PARTIAL_MESSAGE}]


def _encode_cursor(key: Any) -> str:
    return base64.b64encode(("cursor:v2:" + json.dumps(key)).encode()).decode()


def _decode_cursor(cursor: str) -> Any:
    try:
        raw = base64.b64decode(cursor.encode()).decode()
        value = json.loads(raw.removeprefix("cursor:v2:"))
    except (ValueError, UnicodeDecodeError):
        raise gql.ExecutionError(
            f"`{cursor}` does not appear to be a valid cursor.", "INVALID_CURSOR_ARGUMENTS"
        ) from None
    return tuple(value) if isinstance(value, list) else value


def _list_connection(node_type: str, nodes: list, args: dict) -> gql.Obj:
    keys = list(range(len(nodes)))
    page, cursors, info = gql.paginate(nodes, keys, args, _encode_cursor, _decode_cursor)
    return gql.Obj(
        f"{node_type}Connection",
        totalCount=len(nodes),
        pageInfo=info,
        nodes=page,
        edges=[
            gql.Obj(f"{node_type}Edge", cursor=c, node=n)
            for c, n in zip(cursors, page, strict=True)
        ],
    )


def _encode(body: Any) -> bytes:
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body, separators=(",", ":")).encode()


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGitHub
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass

    def _handle(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request(
            self.command,
            parts.path,
            parse_qs(parts.query),
            {k.lower(): v for k, v in self.headers.items()},
            body,
        )
        response, fault = self.fake.dispatch(req)
        self.fake.stats.log.append((req.method, req.path, response.status))
        if fault == "timeout":
            self.fake.faults.hold()
            self.close_connection = True
            return
        data = _encode(response.body) if response.status != 304 else b""
        if fault == "truncated":
            data = data[: max(1, len(data) // 2)]
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in response.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle


# --------------------------------------------------------------------------------------------
# Replaying recorded exchanges over real HTTP (PyGithub speaks requests, not httpx)

_HOP_BY_HOP = {"content-encoding", "transfer-encoding", "content-length", "connection", "status"}


class ReplayServer:
    """Answers GitHub's recorded exchanges in order on 127.0.0.1; remembers what was asked.

    with ReplayServer(load_exchanges("Retry.testReturnsRepoAfter3Retries")) as replay:
        RestClient(token, replay.url, ...).repository("PyGithub/PyGithub")
        replay.seen   # [(method, path, headers), ...]
    """

    def __init__(self, exchanges: list[Exchange]):
        self.queue = list(exchanges)
        self.seen: list[tuple[str, str, dict[str, str]]] = []
        replay = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                replay.seen.append((self.command, self.path, headers))
                if not replay.queue:
                    self.send_error(599, "replay exhausted")
                    return
                exchange = replay.queue.pop(0)
                data = exchange.body.encode("utf-8")
                self.send_response(exchange.status)
                for key, value in exchange.headers:
                    if key.lower() not in _HOP_BY_HOP:
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
