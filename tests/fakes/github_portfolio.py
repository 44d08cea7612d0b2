"""Portfolio routes for the fake GitHub: merged pull requests, users by id, gists, closing refs.

    with FakeGitHub() as gh:
        fake = PortfolioFake(gh)                      # installs the routes with gh.add_route
        fake.add_user("ada", 42, bio="ML learner")
        repo = gh.add_repo("acme/lib", stars=1200, topics=["nlp"])
        url = fake.add_pull("acme/lib", "ada", "Fix tokenizer", merged_at=..., body="Fixes #3")
        fake.add_gist("ada", "mfi-verify-...")
        fake.rename_user("ada", "ada-l")              # /users/ada now 404, /user/42 -> ada-l
        fake.hide_repo("acme/lib")                   # private or deleted: /repos/... 404

Served (shapes from ../shared/github-examples/replay: Search.testSearchIssues, PullRequest.setUp):
  GET /search/issues      q: is:pr is:merged author:L merged:>=D | merged:<=D | merged:D1..D2
                          | is:pr is:merged in:title WORD (repo:o/r OR repo:o/s)
                          (advanced search: space-joined terms AND, at most 1,000 results)
  GET /repos/o/r/pulls/N  additions, deletions, merged_at, labels
  GET /user/{id}          the account's current login (renames)
  GET /users/{l}/gists, GET /gists/{id}
  POST /graphql           `resource(url:)` on the built-in engine (gh.root_fields), so the
                          closing-reference queries are checked against GitHub's schema too;
                          `fake.broken_closing_refs` holds pulls GitHub answers an error for.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from tests.fakes import graphql_engine as gql
from tests.fakes.github_server import (
    DOCS,
    PARTIAL_MESSAGE,
    FakeGitHub,
    Request,
    Response,
    _list_connection,
    load_exchanges,
)

_PULL_MINIMAL = {
    "url": "",
    "id": 1,
    "html_url": "",
    "number": 1,
    "state": "closed",
    "title": "",
    "body": "",
    "user": {"login": "octocat", "id": 1},
    "labels": [],
    "created_at": "2020-01-01T00:00:00Z",
    "updated_at": "2020-01-01T00:00:00Z",
    "closed_at": None,
    "merged_at": None,
    "merged": False,
    "additions": 0,
    "deletions": 0,
    "changed_files": 0,
    "commits": 1,
    "comments": 0,
}


def _pull_template() -> dict:
    try:
        return load_exchanges("PullRequest.setUp")[1].json()
    except (OSError, IndexError, ValueError, SyntaxError):
        return copy.deepcopy(_PULL_MINIMAL)


SEARCH_CAP = 1000  # GitHub search returns at most this many results of one query


def _unsupported(term: str) -> Response:
    return Response(
        422,
        {
            "message": "Validation Failed",
            "errors": [{"message": f"unsupported qualifier in this fake: {term}"}],
            "documentation_url": DOCS,
        },
    )


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class FakePull:
    repo: str
    number: int
    title: str
    author: str
    merged_at: datetime | None
    body: str = ""
    additions: int = 10
    deletions: int = 2
    labels: list[str] = field(default_factory=list)
    closes: list[str] = field(default_factory=list)  # issue URLs GitHub would list as closing

    @property
    def url(self) -> str:
        return f"https://github.com/{self.repo}/pull/{self.number}"


class PortfolioFake:
    """State helpers and routes; everything lives in `gh.state.extra` under the gh.state.lock."""

    def __init__(self, gh: FakeGitHub):
        self.gh = gh
        self._pull_template = _pull_template()
        with gh.state.lock:
            gh.state.extra.setdefault("pulls", {})
            gh.state.extra.setdefault("gists", {})
            gh.state.extra.setdefault("hidden_repos", set())
        gh.add_route("GET", r"^/search/issues$", self._search_issues)
        gh.add_route(
            "GET",
            r"^/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)/pulls/(?P<number>\d+)$",
            self._get_pull,
        )
        gh.add_route("GET", r"^/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)$", self._get_repo)
        gh.add_route("GET", r"^/user/(?P<id>\d+)$", self._get_user_by_id)
        gh.add_route("GET", r"^/users/(?P<login>[^/]+)/gists$", self._list_gists)
        gh.add_route("GET", r"^/gists/(?P<id>[^/]+)$", self._get_gist)
        gh.root_fields["resource"] = self._resource
        self.searches: list[str] = []  # every search query, as sent
        self.broken_closing_refs: set[str] = set()  # pulls whose closing refs answer an error

    # -- state helpers --------------------------------------------------------------------------

    @property
    def pulls(self) -> dict[str, FakePull]:
        return self.gh.state.extra["pulls"]

    def add_user(
        self, login: str, github_id: int, *, bio: str = "", name: str | None = None
    ) -> None:
        with self.gh.state.lock:
            self.gh.state.users[login] = {"id": github_id, "bio": bio, "name": name or login}

    def set_bio(self, login: str, bio: str) -> None:
        with self.gh.state.lock:
            self.gh.state.users[login]["bio"] = bio

    def rename_user(self, old: str, new: str) -> None:
        """GitHub renames the account: the old login 404s, pull requests show the new one."""
        with self.gh.state.lock:
            self.gh.state.users[new] = self.gh.state.users.pop(old)
            for pr in self.pulls.values():
                if pr.author == old:
                    pr.author = new
            gists = self.gh.state.extra["gists"]
            if old in gists:
                gists[new] = gists.pop(old)

    def add_gist(
        self, login: str, content: str, *, description: str = "", filename: str = "proof.txt"
    ) -> str:
        with self.gh.state.lock:
            gists = self.gh.state.extra["gists"].setdefault(login, [])
            gist_id = f"g{len(gists) + 1:04d}{abs(hash(login)) % 10000:04d}"
            gists.insert(
                0, {"id": gist_id, "description": description, "files": {filename: content}}
            )
            return gist_id

    def add_pull(
        self,
        repo: str,
        author: str,
        title: str,
        *,
        merged_at: datetime | None,
        body: str = "",
        additions: int = 10,
        deletions: int = 2,
        labels=(),
        closes=(),
        number: int | None = None,
    ) -> str:
        with self.gh.state.lock:
            if number is None:
                taken = [p.number for p in self.pulls.values() if p.repo.lower() == repo.lower()]
                number = 100 + len(taken) + 1
            pr = FakePull(
                repo,
                number,
                title,
                author,
                merged_at,
                body,
                additions,
                deletions,
                list(labels),
                list(closes),
            )
            self.pulls[pr.url] = pr
            return pr.url

    def hide_repo(self, repo: str, *, from_search: bool = True) -> None:
        """The repository became private or was deleted: REST answers 404 for it and its pulls,
        and (as on GitHub) search stops returning them; from_search=False models the window
        where the search index still has them."""
        with self.gh.state.lock:
            self.gh.state.extra["hidden_repos"].add(repo.lower())
            if from_search:
                self.gh.state.extra.setdefault("unsearchable", set()).add(repo.lower())

    def _hidden(self, repo: str) -> bool:
        return repo.lower() in self.gh.state.extra["hidden_repos"]

    def requests_to(self, pattern: str) -> int:
        """How many requests whose path matches `pattern` the server has answered."""
        return sum(1 for _m, path, _s in self.gh.stats.log if re.search(pattern, path))

    # -- payloads -------------------------------------------------------------------------------

    def _user_ref(self, login: str) -> dict:
        info = self.gh.state.users.get(login, {})
        return {
            "login": login,
            "id": info.get("id", 0),
            "type": "User",
            "url": f"{self.gh.url}/users/{login}",
            "html_url": f"https://github.com/{login}",
        }

    def _search_item(self, pr: FakePull) -> dict:
        base = self.gh.url
        item = self.gh._rewrite(self.gh.template("issue"), {"https://api.github.com": base})
        item.update(
            url=f"{base}/repos/{pr.repo}/issues/{pr.number}",
            repository_url=f"{base}/repos/{pr.repo}",
            html_url=pr.url,
            number=pr.number,
            title=pr.title,
            body=pr.body,
            state="closed",
            user=self._user_ref(pr.author),
            labels=[{"name": n, "color": "7057ff", "default": False} for n in pr.labels],
            assignee=None,
            assignees=[],
            comments=0,
            created_at=_iso(pr.merged_at or datetime.now(UTC)),
            updated_at=_iso(pr.merged_at or datetime.now(UTC)),
            closed_at=_iso(pr.merged_at) if pr.merged_at else None,
            pull_request={
                "url": f"{base}/repos/{pr.repo}/pulls/{pr.number}",
                "html_url": pr.url,
                "diff_url": f"{pr.url}.diff",
                "patch_url": f"{pr.url}.patch",
                "merged_at": _iso(pr.merged_at) if pr.merged_at else None,
            },
            score=1.0,
        )
        item.pop("closed_by", None)
        item.pop("milestone", None)
        return item

    def _pull_payload(self, pr: FakePull) -> dict:
        base = self.gh.url
        data = copy.deepcopy(self._pull_template)
        data.update(
            url=f"{base}/repos/{pr.repo}/pulls/{pr.number}",
            html_url=pr.url,
            issue_url=f"{base}/repos/{pr.repo}/issues/{pr.number}",
            number=pr.number,
            state="closed",
            title=pr.title,
            body=pr.body,
            user=self._user_ref(pr.author),
            labels=[{"name": n, "color": "7057ff", "default": False} for n in pr.labels],
            merged=pr.merged_at is not None,
            merged_at=_iso(pr.merged_at) if pr.merged_at else None,
            closed_at=_iso(pr.merged_at) if pr.merged_at else None,
            additions=pr.additions,
            deletions=pr.deletions,
            changed_files=1,
            assignee=None,
            assignees=[],
            merged_by=None,
            milestone=None,
        )
        for key in (
            "head",
            "base",
            "_links",
            "requested_reviewers",
            "requested_teams",
            "auto_merge",
        ):
            data.pop(key, None)
        return data

    # -- routes ---------------------------------------------------------------------------------

    def _search_issues(self, req: Request) -> Response:
        """GitHub's advanced issue search, for the qualifiers the portfolio sends.

        Space-joined terms are ANDed (so `repo:A repo:B` finds nothing), `(repo:A OR repo:B)`
        is a group of alternatives; `merged:>=D`, `merged:<=D`, `merged:D1..D2` bound the
        merge date; at most 1,000 results come back, `total_count` still tells them all.
        """
        q = req.query.get("q", [""])[0]
        groups = [g.split(" OR ") for g in re.findall(r"\(([^)]*)\)", q)]
        terms = re.sub(r"\([^)]*\)", " ", q).split()
        author, repo_sets, words = None, [], []
        lo: date | None = None
        hi: date | None = None
        in_title = False
        for group in groups:
            if not all(t.strip().startswith("repo:") for t in group):
                return _unsupported(" OR ".join(group))
            repo_sets.append({t.strip()[5:].lower() for t in group})
        for term in terms:
            if term in ("is:pr", "is:merged"):
                continue
            if term.startswith("author:"):
                author = term[7:]
            elif term.startswith("repo:"):
                repo_sets.append({term[5:].lower()})
            elif term.startswith("merged:>="):
                lo = date.fromisoformat(term[9:][:10])
            elif term.startswith("merged:<="):
                hi = date.fromisoformat(term[9:][:10])
            elif term.startswith("merged:") and ".." in term:
                first, last = term[7:].split("..")
                lo, hi = date.fromisoformat(first), date.fromisoformat(last)
            elif term == "in:title":
                in_title = True
            elif ":" in term:
                return _unsupported(term)
            else:
                words.append(term.lower())
        if author is not None and author not in self.gh.state.users:
            # GitHub answers 422 "The listed users cannot be searched ..." for an unknown author
            return Response(
                422,
                {
                    "message": "Validation Failed",
                    "errors": [
                        {
                            "message": "The listed users and repositories cannot be searched "
                            "either because the "
                            "resources do not exist or you do not have permission to view them.",
                            "resource": "Search",
                            "field": "q",
                            "code": "invalid",
                        }
                    ],
                    "documentation_url": DOCS,
                },
            )
        found = [
            pr
            for pr in self.pulls.values()
            if pr.merged_at is not None
            and pr.repo.lower() not in self.gh.state.extra.get("unsearchable", set())
            and (author is None or pr.author.lower() == author.lower())
            and all(pr.repo.lower() in repos for repos in repo_sets)
            and (lo is None or pr.merged_at.date() >= lo)
            and (hi is None or pr.merged_at.date() <= hi)
            and all(
                w in (pr.title if in_title else pr.title + " " + pr.body).lower() for w in words
            )
        ]
        newest_first = req.query.get("order", ["desc"])[0] == "desc" and "sort" in req.query
        found.sort(key=lambda p: (p.merged_at, p.url), reverse=newest_first)
        self.searches.append(q)
        envelope = self.gh.template("search")
        items = [self._search_item(p) for p in found[:SEARCH_CAP]]
        response = self.gh._paged(req, items, envelope=envelope)
        if isinstance(response.body, dict):
            response.body["total_count"] = len(found)
        return response

    def _get_pull(self, req: Request) -> Response:
        repo = f"{req.match['owner']}/{req.match['name']}"
        pr = self.pulls.get(f"https://github.com/{repo}/pull/{req.match['number']}")
        if pr is None:
            pr = next(
                (
                    p
                    for p in self.pulls.values()
                    if p.repo.lower() == repo.lower() and p.number == int(req.match["number"])
                ),
                None,
            )
        if pr is None or self._hidden(repo):
            return Response(404, self.gh.template("not_found"))
        return Response(200, self._pull_payload(pr))

    def _get_repo(self, req: Request) -> Response:
        repo = f"{req.match['owner']}/{req.match['name']}"
        if self._hidden(repo) or repo.lower() not in self.gh.state.repos:
            return Response(404, self.gh.template("not_found"))
        return Response(200, self.gh.repo_payload(self.gh.state.repos[repo.lower()]))

    def _get_user_by_id(self, req: Request) -> Response:
        wanted = int(req.match["id"])
        login = next(
            (name for name, info in self.gh.state.users.items() if info.get("id") == wanted), None
        )
        if login is None:
            return Response(404, self.gh.template("not_found"))
        return Response(200, self.gh.user_payload(login))

    def _gist_payload(self, login: str, gist: dict, *, content: bool) -> dict:
        base = self.gh.url
        return {
            "url": f"{base}/gists/{gist['id']}",
            "id": gist["id"],
            "html_url": f"https://gist.github.com/{login}/{gist['id']}",
            "description": gist["description"],
            "public": True,
            "owner": self._user_ref(login),
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "comments": 0,
            "files": {
                name: {
                    "filename": name,
                    "type": "text/plain",
                    "language": "Text",
                    "size": len(text),
                    "raw_url": f"https://gist.githubusercontent.com/{login}/{gist['id']}/raw/{name}",
                    **({"content": text, "truncated": False} if content else {}),
                }
                for name, text in gist["files"].items()
            },
        }

    def _list_gists(self, req: Request) -> Response:
        login = req.match["login"]
        if login not in self.gh.state.users:
            return Response(404, self.gh.template("not_found"))
        gists = self.gh.state.extra["gists"].get(login, [])
        return self.gh._paged(
            req, [self._gist_payload(login, g, content=False) for g in gists], envelope=None
        )

    def _get_gist(self, req: Request) -> Response:
        for login, gists in self.gh.state.extra["gists"].items():
            for g in gists:
                if g["id"] == req.match["id"]:
                    return Response(200, self._gist_payload(login, g, content=True))
        return Response(404, self.gh.template("not_found"))

    def _resource(self, args: dict) -> gql.Obj | None:
        """`resource(url:)` for the engine: a pull request with its closing issue references."""
        pr = self.pulls.get(args.get("url") or "")
        if pr is None or self._hidden(pr.repo):
            return None
        if pr.url in self.broken_closing_refs:
            raise gql.ExecutionError(PARTIAL_MESSAGE, "SERVICE_UNAVAILABLE")

        def closing(conn_args: dict) -> gql.Obj:
            return _list_connection(
                "Issue", [gql.Obj("Issue", url=u) for u in pr.closes], conn_args
            )

        return gql.Obj("PullRequest", url=pr.url, number=pr.number, closingIssuesReferences=closing)
