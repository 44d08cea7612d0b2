"""Property: every snapshot line is stored with its meaning intact or reported by its number;
valid lines always load; nothing already in the store changes because of a bad line."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from matcher.models import Issue
from matcher.snapshot import MAX_COUNT, import_snapshot
from matcher.store import Database
from matcher.store.issues import load_issues, upsert_issues

EARLIER = [
    Issue(
        url=f"https://github.com/Keep/Me/issues/{n}",
        repo="Keep/Me",
        number=n,
        title=f"Stored before the import {n}",
        labels=("good first issue",),
        stars=5,
        updated_at=datetime(2026, 1, n, tzinfo=UTC),
    )
    for n in (1, 2, 3)
]
REPOS = ["keep/me", "a/b", "Org-1/repo.name_x"]

text = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30
)
words = text.filter(lambda s: s.strip())
offsets = st.sampled_from(
    [UTC, timezone(timedelta(hours=5, minutes=30)), timezone(-timedelta(hours=8))]
)
moments = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=offsets
)

# Each bad value of the fault campaign, as (key, value); a line carrying one must be reported.
CORRUPTIONS = [
    ("demo", "true"),
    ("stars", 2**63),
    ("stars", 2**64 + 1),
    ("stars", -1),
    ("stars", "1200"),
    ("stars", 1.5),
    ("comments", 2**63),
    ("comments", -3),
    ("comments", [{"body": ["not", "text"]}]),
    ("number", 2**63),
    ("number", MAX_COUNT + 1),
    ("number", 0),
    ("number", -1),
    ("number", True),
    ("number", "²"),
    ("language", {"name": "Python"}),
    ("language", ["Python"]),
    ("language", 3),
    ("title", "\ud800"),
    ("title", "   "),
    ("title", "a\x00b"),
    ("body", "x\udfffy"),
    ("body", 5),
    ("labels", ["ok", "\ud800"]),
    ("labels", "bug"),
    ("labels", [True]),
    ("topics", [["nested"]]),
    ("assignees", [{"login": "\udc80"}]),
    ("created_at", "0001-01-01T00:00:00+05:00"),
    ("updated_at", "9999-12-31T23:59:59-05:00"),
    ("created_at", "yesterday"),
    ("created_at", 20260101),
    ("claimed", "false"),
    ("claimed", 0),
    ("state", ["open"]),
    ("state", "opened"),
    ("state", 1),
    ("url", "javascript:alert(1)"),
    ("url", "https://github.com/other/repo/issues/1"),
    ("url", "https://evil.example/a/b/issues/1"),
    ("url", "HTTPS://github.com/a/b/issues/1"),
    ("repo", "noslash"),
    ("repo", "a/b/c"),
    ("repo", ""),
    ("unanswered_comments", -1),
    ("unanswered_comments", True),
    ("unanswered_since", "last spring"),
]
GARBAGE = [
    b"{not json",
    b"[" * 5000 + b"]" * 5000,
    b'{"url": ' + b"[" * 3000 + b"]" * 3000 + b"}",
    b'{"number": 1' + b"0" * 5000 + b"}",
    b"null",
    b"[]",
    b"42",
    b"\xff\xfe not utf-8",
    b'{"url": "https://github.com/a/b/issues/1"}',
]


@st.composite
def valid_record(draw):
    repo = draw(st.sampled_from(REPOS))
    number = draw(st.integers(1, 6) | st.integers(1, MAX_COUNT))
    url_repo = draw(st.sampled_from([repo, repo.upper(), repo.lower()]))
    kind = draw(st.sampled_from(["issues", "pull"]))  # a pull request is refused (issue 21)
    record: dict = {
        "url": f"https://github.com/{url_repo}/{kind}/{number}",
        "repo": repo,
        "number": draw(st.sampled_from([number, str(number)])),
        "title": draw(words),
        "body": draw(st.none() | text),
        "labels": draw(st.lists(text, max_size=3)),
    }
    optional = {
        "state": st.sampled_from(["open", "OPEN", "closed", "Closed", None, ""]),
        "language": st.none() | st.just("") | words,
        "created_at": moments,
        "updated_at": moments,
        "comments": st.integers(0, MAX_COUNT) | st.lists(text, max_size=3),
        "assignees": st.lists(words, max_size=2),
        "linked_prs": st.lists(words, max_size=2),
        "claimed": st.none() | st.booleans(),
        "stars": st.none() | st.integers(0, MAX_COUNT),
        "topics": st.lists(text, max_size=3),
        "niches": st.lists(words, max_size=2),
        "unknown_key": st.none() | st.just("\ud800") | st.just({"deep": [1, 2]}),
    }
    for key in draw(st.sets(st.sampled_from(sorted(optional)))):
        value = draw(optional[key])
        record[key] = value.isoformat() if isinstance(value, datetime) else value
    if draw(st.booleans()):  # the unanswered comments: both keys, or neither
        record["unanswered_comments"] = draw(st.integers(1, MAX_COUNT))
        record["unanswered_since"] = draw(moments).isoformat()
    return record


def expected_issue(record: dict) -> Issue:
    """What the record means, worked out independently of the parser."""
    created = _moment(record.get("created_at"))
    comments = record.get("comments") or 0
    return Issue(
        url=record["url"],
        repo=record["repo"],
        number=int(record["number"]),
        title=record["title"].strip(),
        body=record["body"] or "",
        labels=tuple(record["labels"]),
        state=(record.get("state") or "open").lower(),
        language=record.get("language") or None,
        created_at=created,
        updated_at=_moment(record.get("updated_at")),  # never filled in from created_at
        comments=len(comments) if isinstance(comments, list) else comments,
        assignees=tuple(record.get("assignees") or ()),
        linked_prs=tuple(record.get("linked_prs") or ()),
        claimed=bool(record.get("claimed")),
        stars=record.get("stars"),
        topics=tuple(record.get("topics") or ()),
        niches=tuple(record.get("niches") or ()),
        unanswered_comments=record.get("unanswered_comments") or 0,
        unanswered_since=_moment(record.get("unanswered_since")),
    )


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value).astimezone(UTC) if value else None


@st.composite
def snapshot_line(draw):
    """(bytes of the line, the record if it is valid else None, True when it must be reported)."""
    shape = draw(st.sampled_from(["valid", "valid", "corrupt", "garbage", "blank"]))
    if shape == "blank":
        return draw(st.sampled_from([b"", b"   ", b"\t"])), None, False
    if shape == "garbage":
        return draw(st.sampled_from(GARBAGE)), None, True
    record = draw(valid_record())
    if shape == "corrupt":
        key, value = draw(st.sampled_from(CORRUPTIONS))
        record[key] = value
    try:
        line = json.dumps(record, ensure_ascii=draw(st.booleans())).encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate can only travel escaped
        line = json.dumps(record).encode("utf-8")
    pull = "/pull/" in record["url"]
    return line, (record if shape == "valid" and not pull else None), shape == "corrupt" or pull


@pytest.fixture(scope="module")
def template_store(tmp_path_factory) -> Path:
    """A migrated store holding EARLIER, made once: each example starts from a copy of it (a
    fresh store per example spent most of the test's time migrating)."""
    path = tmp_path_factory.mktemp("property") / "store.sqlite"
    db = Database(f"sqlite:///{path}")
    upsert_issues(db, EARLIER)
    db.close()
    assert not path.with_name("store.sqlite-wal").exists()  # all of it is in the one file
    return path


# SNAPSHOT_EXAMPLES=1000 for a longer search than the suite's
@settings(
    max_examples=int(os.environ.get("SNAPSHOT_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(snapshot_line(), min_size=1, max_size=12))
def test_every_line_is_stored_intact_or_reported(template_store, lines):
    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(template_store, Path(folder) / "store.sqlite")
        db = Database(f"sqlite:///{Path(folder) / 'store.sqlite'}")
        path = Path(folder) / "snapshot.jsonl"
        path.write_bytes(b"\n".join(line for line, _, _ in lines) + b"\n")

        report = import_snapshot(db, path)

        stored_before = {issue.url.lower(): issue for issue in EARLIER}
        expected: dict[str, Issue] = {}
        must_report: set[int] = set()
        for number, (_, record, bad) in enumerate(lines, start=1):
            if bad:
                must_report.add(number)
            elif record is not None:
                key = record["url"].lower()
                if key in expected:  # the same page again, in any letter case: first one wins
                    must_report.add(number)
                    continue
                issue = expected_issue(record)
                if key in stored_before:  # keeps the spelling already stored
                    issue = replace(issue, url=stored_before[key].url)
                expected[key] = issue
        reported = {int(e.split(": line ")[1].split(":")[0]) for e in report.result.errors}
        assert reported == must_report, report.result.errors

        stored = {issue.url.lower(): issue for issue in load_issues(db, open_only=False)}
        for key, issue in expected.items():
            assert stored[key] == issue
        for key, issue in stored_before.items():  # untouched unless a valid line named it
            if key not in expected:
                assert stored[key] == issue
        assert set(stored) == set(expected) | set(stored_before)
        db.close()
