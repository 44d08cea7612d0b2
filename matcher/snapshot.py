"""Import and export issues as JSON lines (the snapshot format of DESIGN.md)."""

from __future__ import annotations

import io
import json
import logging
import os
import re
import stat
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any, BinaryIO

from matcher.catalog import Labels, load_catalog
from matcher.errors import SnapshotError
from matcher.models import Issue, Welcome
from matcher.store import Database
from matcher.store.issues import (
    UpsertCounts,
    load_issues,
    load_welcome,
    save_welcome,
    upsert_issues,
)

log = logging.getLogger(__name__)

REQUIRED = ("url", "repo", "number", "title", "body", "labels")
DEMO_SNAPSHOT = "demo_issues.jsonl"
# The store's INTEGER columns are 32-bit on PostgreSQL; a larger count is a corrupt value anyway.
MAX_COUNT = 2**31 - 1
_REPO = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+")
_ISSUE_URL = re.compile(r"https://github\.com/([^/?#]+/[^/?#]+)/(issues|pull)/([0-9]+)")
_STATES = ("open", "closed")


@dataclass
class SnapshotResult:
    issues: list[Issue] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "line 7: missing key 'title'"


def demo_snapshot_path() -> Path:
    """The demo issues shipped inside the package (written for this project, not GitHub data)."""
    return Path(str(resources.files("matcher") / "data" / DEMO_SNAPSHOT))


def is_demo_snapshot(path: str | Path | None) -> bool:
    """True for the bundled demo file, however it is named on the command line."""
    return path is not None and Path(path).resolve() == demo_snapshot_path().resolve()


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 date or date-time (with 'Z' or an offset) -> aware UTC datetime."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 string, got {type(value).__name__}")
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text) if "T" in text or " " in text else None
        if parsed is None:
            parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+05:00 is before the first representable UTC instant
        raise ValueError(f"{_shown(value)} is out of range in UTC") from None


def _shown(value: Any, limit: int = 40) -> str:
    """A value quoted for an error line, never longer than `limit` characters."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _kind(value: Any) -> str:
    return {dict: "an object", list: "a list", bool: "a boolean", str: "a string"}.get(
        type(value), f"a {type(value).__name__}"
    )


def _strings(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"key '{key}' must be a list, got {_kind(value)}")
    out = []
    for item in value:
        if isinstance(item, dict):  # GitHub-shaped objects: {"name"}, {"login"} or {"url"}
            item = item.get("name") or item.get("login") or item.get("html_url") or item.get("url")
        if isinstance(item, bool) or not isinstance(item, str | int):
            raise ValueError(f"key '{key}' holds {_kind(item)}, expected strings")
        out.append(str(item))
    return tuple(out)


def _count(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
        raise ValueError(f"key '{key}' must be a count from 0 to {MAX_COUNT}, got {_shown(value)}")
    return value


def _comments(value: Any, labels: Labels | None) -> tuple[int, bool]:
    """Comment count, and whether a comment claims the issue."""
    if value is None:
        return 0, False
    if isinstance(value, list):
        bodies = [c.get("body") if isinstance(c, dict) else c for c in value]
        if not all(b is None or isinstance(b, str) for b in bodies):
            raise ValueError("key 'comments' must hold comment texts or {\"body\": text} objects")
        claimed = labels is not None and any(labels.is_claim(b or "") for b in bodies)
        return _count(len(value), "comments"), claimed
    return _count(value, "comments"), False


def _number(value: Any) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COUNT:
        raise ValueError(f"key 'number' must be an issue number from 1 to {MAX_COUNT}")
    return value


def _state(value: Any) -> str:
    if value is None or value == "":
        return "open"
    if not isinstance(value, str) or value.strip().lower() not in _STATES:
        raise ValueError(f"key 'state' must be 'open' or 'closed', got {_shown(value)}")
    return value.strip().lower()


def _flag(value: Any, key: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise ValueError(f"key '{key}' must be true or false, got {_kind(value)} {_shown(value)}")
    return value


def _optional_text(value: Any, key: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValueError(f"key '{key}' must be a string, got {_kind(value)}")
    return value


def _check_url(url: str, repo: str, number: int) -> None:
    """The url must be the GitHub page of this very issue: no other site, repository or number,
    and no pull request (a snapshot holds issues; sync never stores pull requests)."""
    match = _ISSUE_URL.fullmatch(url)
    if match is None:
        raise ValueError(
            f"key 'url' must be https://github.com/{repo}/issues/{number}, got {_shown(url)}"
        )
    if match.group(2) == "pull":
        raise ValueError(
            f"key 'url' {_shown(url, 80)} is a pull request, not an issue: "
            f"a snapshot holds issues (https://github.com/{repo}/issues/{number})"
        )
    if match.group(1).lower() != repo.lower() or int(match.group(3)) != number:
        raise ValueError(f"key 'url' {_shown(url, 80)} is not {repo}#{number}")


def _check_text(issue: Issue) -> None:
    """Every stored string must be valid Unicode without NUL (PostgreSQL refuses both)."""
    texts = {name: _texts(getattr(issue, name)) for name in _TEXT_KEYS}
    joined = "".join(text for values in texts.values() for text in values)
    try:  # one check for the whole line; the slow search below runs only for a bad one
        joined.encode("utf-8")
        if "\x00" not in joined:
            return
    except UnicodeEncodeError:
        pass
    for name, values in texts.items():
        for text in values:
            if "\x00" in text:
                raise ValueError(f"key '{name}' holds a NUL character")
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(
                    f"key '{name}' is not valid Unicode (a lone surrogate such as \\ud800)"
                ) from None


def _texts(value: Any) -> tuple[str, ...]:
    return value if isinstance(value, tuple) else (value or "",)


_WELCOME_KEYS = (
    "newcomer_prs",
    "newcomer_merged",
    "median_merge_days",
    "last_merged_at",
    "fetched_at",
    "window_days",
    "median_reply_days",
)


def _welcome(value: Any) -> Welcome | None:
    """The optional 'welcome' object: the repository's figures (matcher.models.Welcome)."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValueError(f"key 'welcome' must be an object, got {_kind(value)}")
    unknown = sorted(set(value) - set(_WELCOME_KEYS))
    if unknown:
        raise ValueError(f"key 'welcome' has an unknown key '{unknown[0]}'")
    prs = _count(value.get("newcomer_prs", 0), "welcome.newcomer_prs")
    merged = _count(value.get("newcomer_merged", 0), "welcome.newcomer_merged")
    if merged > prs:
        raise ValueError("key 'welcome.newcomer_merged' must not exceed 'welcome.newcomer_prs'")
    days = _days(value.get("median_merge_days"), "median_merge_days")
    reply = _days(value.get("median_reply_days"), "median_reply_days")
    try:
        last, fetched = parse_time(value.get("last_merged_at")), parse_time(value.get("fetched_at"))
    except ValueError as exc:
        raise ValueError(f"bad time in 'welcome': {exc}") from None
    if fetched is None:
        raise ValueError("key 'welcome.fetched_at' is required (when the figures were measured)")
    window = _count(value.get("window_days", 182), "welcome.window_days")
    return Welcome(prs, merged, days, last, fetched, window, reply)


def _days(value: Any, key: str) -> float | None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 10**6
    ):
        raise ValueError(f"key 'welcome.{key}' must be days >= 0, got {_shown(value)}")
    return None if value is None else float(value)


def _unanswered(count: Any, since: Any) -> tuple[int, datetime | None]:
    """The optional 'unanswered_comments' and 'unanswered_since' keys, which go together."""
    count = 0 if count is None else _count(count, "unanswered_comments")
    try:
        when = parse_time(since)
    except ValueError as exc:
        raise ValueError(f"bad time in 'unanswered_since': {exc}") from None
    if count and when is None:
        raise ValueError(
            "key 'unanswered_since' is required when 'unanswered_comments' is above 0"
            " (when the oldest unanswered comment was posted)"
        )
    if when is not None and not count:
        raise ValueError("key 'unanswered_since' needs 'unanswered_comments' of 1 or more")
    return count, when


_LIST_KEYS = ("labels", "assignees", "linked_prs", "topics", "niches")
_TEXT_KEYS = ("url", "repo", "title", "body", "state", "language", *_LIST_KEYS)


def issue_from_record(record: Any, labels: Labels | None = None) -> Issue:
    """One snapshot object -> Issue; raises ValueError naming the bad key."""
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    missing = [key for key in REQUIRED if key not in record]
    if missing:
        raise ValueError(f"missing key '{missing[0]}'")
    url, repo, title = record["url"], record["repo"], record["title"]
    if not all(isinstance(v, str) and v.strip() for v in (url, repo, title)):
        raise ValueError("keys 'url', 'repo' and 'title' must be non-empty strings")
    if not _REPO.fullmatch(repo):
        raise ValueError(f"key 'repo' must be 'owner/name', got {_shown(repo)}")
    number = _number(record["number"])
    _check_url(url, repo, number)
    body = record["body"] if record["body"] is not None else ""
    if not isinstance(body, str):
        raise ValueError(f"key 'body' must be a string, got {_kind(body)}")
    comments, claimed = _comments(record.get("comments"), labels)
    stars = record.get("stars")
    try:
        created_at = parse_time(record.get("created_at"))
        updated_at = parse_time(record.get("updated_at"))
    except ValueError as exc:
        raise ValueError(f"bad time: {exc}") from None
    waiting, waiting_since = _unanswered(
        record.get("unanswered_comments"), record.get("unanswered_since")
    )
    issue = Issue(
        url=url,
        repo=repo,
        number=number,
        title=title.strip(),
        body=body,
        labels=_strings(record["labels"], "labels"),
        state=_state(record.get("state")),
        language=_optional_text(record.get("language"), "language"),
        created_at=created_at,
        updated_at=updated_at,  # unknown stays unknown: never "no activity since created"
        comments=comments,
        assignees=_strings(record.get("assignees"), "assignees"),
        linked_prs=_strings(record.get("linked_prs"), "linked_prs"),
        claimed=_flag(record.get("claimed"), "claimed") or claimed,
        stars=None if stars is None else _count(stars, "stars"),
        topics=_strings(record.get("topics"), "topics"),
        niches=_strings(record.get("niches"), "niches") or load_catalog().niches_of(repo),
        welcome=_welcome(record.get("welcome")),
        unanswered_comments=waiting,
        unanswered_since=waiting_since,
        demo=_flag(record.get("demo"), "demo"),
    )
    _check_text(issue)
    return issue


def _parse_line(line: str, labels: Labels | None) -> Issue:
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"invalid JSON ({exc.msg})") from None
    except RecursionError:
        raise ValueError("invalid JSON (nested too deeply)") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise ValueError(f"invalid JSON ({exc})") from None
    return issue_from_record(record, labels)


def read_snapshot(
    path: str | Path, labels: Labels | None = None, *, name: str | None = None
) -> SnapshotResult:
    """Read a JSON-lines snapshot; bad lines are reported by number and skipped, the rest load.

    `name` is how messages call the file (the URL it was downloaded from, say).
    """
    path = Path(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot read snapshot ({exc.strerror or exc})") from None
    with handle:
        return read_snapshot_stream(handle, labels, name=name or str(path))


def read_snapshot_stream(
    handle: BinaryIO, labels: Labels | None = None, *, name: str = "<stdin>"
) -> SnapshotResult:
    """Read JSON lines from an open binary stream (a file, stdin), as read_snapshot does."""
    result = SnapshotResult()
    seen: set[str] = set()
    for number, raw in enumerate(_checked_lines(handle, name), start=1):
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            result.errors.append(f"{name}: line {number}: not UTF-8 text (byte {exc.start + 1})")
            continue
        if not line.strip():
            continue
        try:
            issue = _parse_line(line, labels)
        except ValueError as exc:
            result.errors.append(f"{name}: line {number}: {exc}")
            continue
        if issue.url.lower() in seen:  # GitHub URLs are the same page in any letter case
            result.errors.append(
                f"{name}: line {number}: duplicate url {issue.url}, kept the first"
            )
            continue
        seen.add(issue.url.lower())
        result.issues.append(issue)
    for error in result.errors:
        log.warning("%s", error)
    return result


def _checked_lines(handle: BinaryIO, name: str) -> Iterator[bytes]:
    """The stream's lines, after a look at the first one that holds something.

    A JSON array, or one object spread over many lines (`match --json`, `match --profiles`),
    is refused in one line naming what it is, instead of a warning for every line.
    """
    head: list[bytes] = []
    for raw in handle:
        head.append(raw)
        if raw.strip():
            break
    first = b"".join(head).decode("utf-8-sig", errors="replace").strip()
    if not first or (not first.startswith("[") and _parses(first)):
        yield from head
        yield from handle
        return
    rest = handle.read(_WHOLE_DOCUMENT_LIMIT)  # only when line 1 is no issue object at all
    whole = b"".join(head) + rest
    message = _whole_document(whole, name) if len(rest) < _WHOLE_DOCUMENT_LIMIT else None
    if message is not None:
        raise SnapshotError(message)
    yield from head  # a bad first line among good ones: reported by number, as any other
    for raw in io.BytesIO(rest):
        yield raw if raw.endswith(b"\n") else raw + handle.readline()  # cut at the limit
    yield from handle


def _whole_document(data: bytes, name: str) -> str | None:
    """What the file is when it is one JSON document that is not a snapshot; None otherwise."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (ValueError, RecursionError):
        return None
    spread = sum(1 for line in data.splitlines() if line.strip()) > 1
    if spread or _ranked_matches(document) or _objects(document):
        return _describe_document(document, name)
    return None  # `[]`, `42` alone: one bad line, reported as such


def _objects(document: Any) -> bool:
    return (
        isinstance(document, list) and bool(document) and all(isinstance(i, dict) for i in document)
    )


_WHOLE_DOCUMENT_LIMIT = 256 * 2**20


def _parses(text: str) -> bool:
    try:
        json.loads(text)
    except (ValueError, RecursionError):
        return False
    return True


def _describe_document(document: Any, name: str) -> str:
    """What a whole-file JSON document is, in words that say what to import instead."""
    if _ranked_matches(document):
        return _not_json_lines(name, "the output of `match --json` (ranked matches)")
    if isinstance(document, dict) and document and all(map(_ranked_matches, document.values())):
        return _not_json_lines(name, "the output of `match --profiles` (matches per learner)")
    if _objects(document):
        return (
            f"{name}: a JSON array of {len(document)} objects, not JSON lines: a snapshot has one "
            f"issue object per line (`jq -c '.[]' FILE > issues.jsonl` converts it)"
        )
    return _not_json_lines(name, "one JSON document over several lines")


def _ranked_matches(value: Any) -> bool:
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(i, dict) and {"score", "reasons"} <= i.keys() for i in value)
    )


def _not_json_lines(name: str, what: str) -> str:
    return (
        f"{name} is {what}, not a snapshot: import JSON lines, one issue per line, "
        "as `python -m matcher export` writes them"
    )


@dataclass
class ImportReport:
    """What `import_snapshot` did: the file's result and the store's counts."""

    result: SnapshotResult
    counts: UpsertCounts


def same_urls_as_stored(db: Database, issues: list[Issue]) -> list[Issue]:
    """Issues whose url differs from a stored one only in letter case take the stored spelling,
    so the same GitHub page is never stored twice."""
    repos = sorted({issue.repo.lower() for issue in issues})
    stored = {
        issue.url.lower(): issue.url
        for start in range(0, len(repos), 500)  # SQLite allows a bounded number of parameters
        for issue in load_issues(db, open_only=False, repos=repos[start : start + 500])
    }
    return [replace(issue, url=stored.get(issue.url.lower(), issue.url)) for issue in issues]


def import_snapshot(
    db: Database, path: str | Path, labels: Labels | None = None, *, name: str | None = None
) -> ImportReport:
    """Read a snapshot and store its valid issues; nothing else in the store changes."""
    return store_snapshot(db, read_snapshot(path, labels, name=name))


def store_snapshot(db: Database, result: SnapshotResult) -> ImportReport:
    """Store the valid issues of a snapshot already read (from a file, a download or stdin)."""
    issues = same_urls_as_stored(db, result.issues) if result.issues else []
    counts = upsert_issues(db, issues)
    _store_welcome(db, issues)
    return ImportReport(result, counts)


def _store_welcome(db: Database, issues: list[Issue]) -> None:
    """Keep the newest welcoming figures the snapshot carries for each repository."""
    newest: dict[str, Welcome] = {}
    for issue in issues:
        seen = newest.get(issue.repo.lower())
        if issue.welcome is not None and (seen is None or _newer(issue.welcome, seen)):
            newest[issue.repo.lower()] = issue.welcome
    if not newest:
        return
    stored = load_welcome(db)
    for repo, welcome in newest.items():
        if repo not in stored or _newer(welcome, stored[repo][0]):
            save_welcome(db, repo, welcome, cost=0)


def _newer(one: Welcome, other: Welcome) -> bool:
    if one.fetched_at is None or other.fetched_at is None:
        return one.fetched_at is not None
    return one.fetched_at > other.fetched_at


def issue_to_record(issue: Issue) -> dict:
    def iso(value: datetime | None) -> str | None:
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None

    return {
        "url": issue.url,
        "repo": issue.repo,
        "number": issue.number,
        "title": issue.title,
        "body": issue.body,
        "labels": list(issue.labels),
        "state": issue.state,
        "language": issue.language,
        "created_at": iso(issue.created_at),
        "updated_at": iso(issue.updated_at),
        "comments": issue.comments,
        "assignees": list(issue.assignees),
        "linked_prs": list(issue.linked_prs),
        "claimed": issue.claimed,
        "stars": issue.stars,
        "topics": list(issue.topics),
        "niches": list(issue.niches),
        **({"welcome": _welcome_record(issue.welcome, iso)} if issue.welcome else {}),
        **(
            {
                "unanswered_comments": issue.unanswered_comments,
                "unanswered_since": iso(issue.unanswered_since),
            }
            if issue.unanswered_comments
            else {}
        ),
        **({"demo": True} if issue.demo else {}),
    }


def _welcome_record(welcome: Welcome, iso: Any) -> dict:
    return {
        "newcomer_prs": welcome.newcomer_prs,
        "newcomer_merged": welcome.newcomer_merged,
        "median_merge_days": welcome.median_merge_days,
        "last_merged_at": iso(welcome.last_merged_at),
        "fetched_at": iso(welcome.fetched_at),
        "window_days": welcome.window_days,
        "median_reply_days": welcome.median_reply_days,
    }


def iter_lines(issues: Iterable[Issue]) -> Iterator[str]:
    for issue in issues:
        yield json.dumps(issue_to_record(issue), ensure_ascii=False) + "\n"


def write_snapshot(path: str | Path, issues: Iterable[Issue]) -> int:
    """Write issues as JSON lines; returns how many.

    A regular file (or a new one) is replaced atomically through a temporary file beside it, so a
    failed export never leaves half a file. A FIFO, a device or a socket is written to directly:
    renaming over it would destroy it. A symlink is followed, not replaced.
    """
    path = Path(path)
    target = path.resolve() if path.is_symlink() else path
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot write snapshot ({exc.strerror or exc})") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise SnapshotError(f"{path}: is a directory; name a file to write the snapshot to")
    try:
        if mode is not None and not stat.S_ISREG(mode):
            return _write_through(target, issues)
        return _write_replacing(target, issues, keep_mode=mode)
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot write snapshot ({exc.strerror or exc})") from None


def _write_through(path: Path, issues: Iterable[Issue]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as handle:
        for line in iter_lines(issues):
            handle.write(line)
            count += 1
    return count


def _write_replacing(path: Path, issues: Iterable[Issue], keep_mode: int | None) -> int:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            count = 0
            for line in iter_lines(issues):
                handle.write(line)
                count += 1
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, stat.S_IMODE(keep_mode) if keep_mode is not None else _default_mode())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count


def _default_mode() -> int:
    """What open() would give a new file: 0o666 less the umask (mkstemp makes it 0o600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
