"""Import and export issues as JSON lines (the snapshot format of DESIGN.md)."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from matcher.catalog import Labels
from matcher.errors import SnapshotError
from matcher.models import Issue

log = logging.getLogger(__name__)

REQUIRED = ("url", "repo", "number", "title", "body", "labels")
DEMO_SNAPSHOT = "demo_issues.jsonl"


@dataclass
class SnapshotResult:
    issues: list[Issue] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # "line 7: missing key 'title'"


def demo_snapshot_path() -> Path:
    """The demo issues shipped inside the package (written for this project, not real GitHub data)."""
    return Path(str(resources.files("matcher") / "data" / DEMO_SNAPSHOT))


def parse_time(value: Any) -> datetime | None:
    """ISO 8601 date or date-time (with 'Z' or an offset) -> aware UTC datetime."""
    if value in (None, ""):
        return None
    if not isinstance(value, str):
        raise ValueError(f"expected an ISO 8601 string, got {type(value).__name__}")
    text = value.strip().replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text) if "T" in text or " " in text else None
    if parsed is None:
        parsed = datetime.combine(date.fromisoformat(text), datetime.min.time())
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _strings(value: Any, key: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ValueError(f"key '{key}' must be a list")
    out = []
    for item in value:
        if isinstance(
            item, dict
        ):  # GitHub-shaped objects: {"name": ...} or {"login": ...} or {"url": ...}
            item = item.get("name") or item.get("login") or item.get("html_url") or item.get("url")
        if not isinstance(item, str | int):
            raise ValueError(f"key '{key}' holds a {type(item).__name__}, expected strings")
        out.append(str(item))
    return tuple(out)


def _comments(value: Any, labels: Labels | None) -> tuple[int, bool]:
    """Comment count, and whether a comment claims the issue."""
    if value is None:
        return 0, False
    if isinstance(value, bool) or not isinstance(value, int | list):
        raise ValueError("key 'comments' must be a count or a list")
    if isinstance(value, int):
        return max(value, 0), False
    bodies = [c.get("body", "") if isinstance(c, dict) else str(c) for c in value]
    claimed = labels is not None and any(labels.is_claim(b or "") for b in bodies)
    return len(value), claimed


def issue_from_record(record: dict, labels: Labels | None = None) -> Issue:
    """One snapshot object -> Issue; raises ValueError naming the bad key."""
    if not isinstance(record, dict):
        raise ValueError("expected a JSON object")
    missing = [key for key in REQUIRED if key not in record]
    if missing:
        raise ValueError(f"missing key '{missing[0]}'")
    url, repo, title = record["url"], record["repo"], record["title"]
    if not all(isinstance(v, str) and v for v in (url, repo, title)):
        raise ValueError("keys 'url', 'repo' and 'title' must be non-empty strings")
    if repo.count("/") != 1:
        raise ValueError(f"key 'repo' must be 'owner/name', got {repo!r}")
    number = record["number"]
    if isinstance(number, bool) or not isinstance(number, int | str) or not str(number).isdigit():
        raise ValueError("key 'number' must be a positive integer")
    body = record["body"] if record["body"] is not None else ""
    if not isinstance(body, str):
        raise ValueError("key 'body' must be a string")
    comments, claimed = _comments(record.get("comments"), labels)
    stars = record.get("stars")
    try:
        created_at, updated_at = (
            parse_time(record.get("created_at")),
            parse_time(record.get("updated_at")),
        )
    except ValueError as exc:
        raise ValueError(f"bad time: {exc}") from None
    return Issue(
        url=url,
        repo=repo,
        number=int(number),
        title=title.strip(),
        body=body,
        labels=_strings(record["labels"], "labels"),
        state=str(record.get("state") or "open").lower(),
        language=record.get("language") or None,
        created_at=created_at,
        updated_at=updated_at or created_at,
        comments=comments,
        assignees=_strings(record.get("assignees"), "assignees"),
        linked_prs=_strings(record.get("linked_prs"), "linked_prs"),
        claimed=bool(record.get("claimed", False)) or claimed,
        stars=int(stars) if isinstance(stars, int) and not isinstance(stars, bool) else None,
        topics=_strings(record.get("topics"), "topics"),
        niches=_strings(record.get("niches"), "niches"),
    )


def read_snapshot(path: str | Path, labels: Labels | None = None) -> SnapshotResult:
    """Read a JSON-lines snapshot; bad lines are reported by number and skipped, the rest load."""
    path = Path(path)
    result = SnapshotResult()
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise SnapshotError(f"{path}: cannot read snapshot ({exc.strerror or exc})") from None
    seen: set[str] = set()
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                result.errors.append(
                    f"{path}: line {number}: not UTF-8 text (byte {exc.start + 1})"
                )
                continue
            if not line.strip():
                continue
            try:
                issue = issue_from_record(json.loads(line), labels)
            except json.JSONDecodeError as exc:
                result.errors.append(f"{path}: line {number}: invalid JSON ({exc.msg})")
                continue
            except ValueError as exc:
                result.errors.append(f"{path}: line {number}: {exc}")
                continue
            if issue.url in seen:
                result.errors.append(
                    f"{path}: line {number}: duplicate url {issue.url}, kept the first"
                )
                continue
            seen.add(issue.url)
            result.issues.append(issue)
    for error in result.errors:
        log.warning("%s", error)
    return result


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
    }


def iter_lines(issues: Iterable[Issue]) -> Iterator[str]:
    for issue in issues:
        yield json.dumps(issue_to_record(issue), ensure_ascii=False) + "\n"


def write_snapshot(path: str | Path, issues: Iterable[Issue]) -> int:
    """Write issues as JSON lines through a temporary file, so a failed export never leaves half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            for line in iter_lines(issues):
                handle.write(line)
                count += 1
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise SnapshotError(f"{path}: cannot write snapshot ({exc.strerror or exc})") from None
    return count
