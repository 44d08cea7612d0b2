import json

import pytest

from matcher.catalog import load_catalog
from matcher.errors import SnapshotError
from matcher.snapshot import demo_snapshot_path, read_snapshot, write_snapshot
from matcher.store.issues import load_issues, upsert_issues

GOOD = {
    "url": "https://github.com/a/b/issues/1",
    "repo": "a/b",
    "number": 1,
    "title": "Fix typo",
    "body": "The README has a typo.",
    "labels": ["good first issue"],
}


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bad_lines_are_reported_by_number_and_skipped(tmp_path):
    second = dict(GOOD, url="https://github.com/a/b/issues/2", number=2)
    path = write_lines(
        tmp_path / "s.jsonl",
        [
            json.dumps(GOOD),
            "{not json",
            json.dumps({k: v for k, v in GOOD.items() if k != "title"}),
            json.dumps(dict(GOOD, url="https://github.com/a/b/issues/9", number="nine")),
            json.dumps(dict(GOOD, url="https://github.com/a/b/issues/8", labels="bug")),
            "",
            json.dumps(second),
            json.dumps(GOOD),
        ],
    )
    result = read_snapshot(path)
    assert [i.number for i in result.issues] == [1, 2]
    assert [e.split(": ")[1] for e in result.errors] == [
        "line 2",
        "line 3",
        "line 4",
        "line 5",
        "line 8",
    ]
    assert "missing key 'title'" in result.errors[1]
    assert "duplicate" in result.errors[4]


def test_optional_keys_and_claims_in_comments(tmp_path):
    record = dict(
        GOOD,
        state="OPEN",
        created_at="2026-01-02",
        updated_at="2026-03-04T05:06:07Z",
        assignees=[{"login": "octocat"}],
        linked_prs=["https://github.com/a/b/pull/3"],
        comments=[{"author": "x", "body": "Hi! Can I work on this?"}, "thanks"],
        stars=1200,
        topics=["nlp"],
        unknown_key="ignored",
    )
    issue = read_snapshot(
        write_lines(tmp_path / "s.jsonl", [json.dumps(record)]), load_catalog().labels
    ).issues[0]
    assert issue.state == "open" and issue.comments == 2 and issue.claimed
    assert issue.assignees == ("octocat",) and issue.linked_prs == (
        "https://github.com/a/b/pull/3",
    )
    assert issue.created_at.isoformat() == "2026-01-02T00:00:00+00:00"
    assert issue.updated_at.hour == 5 and issue.is_taken


def test_missing_file_is_a_one_line_error(tmp_path):
    with pytest.raises(SnapshotError, match="cannot read"):
        read_snapshot(tmp_path / "nope.jsonl")


def test_export_then_import_round_trips(tmp_path, db):
    issues = read_snapshot(demo_snapshot_path()).issues[:20]
    upsert_issues(db, issues)
    out = tmp_path / "out.jsonl"
    assert write_snapshot(out, load_issues(db)) == 20
    again = read_snapshot(out)
    assert not again.errors
    assert sorted(again.issues, key=lambda i: i.url) == sorted(issues, key=lambda i: i.url)


def test_demo_snapshot_ships_and_is_labelled_demo():
    path = demo_snapshot_path()
    result = read_snapshot(path)
    assert not result.errors
    assert 150 <= len(result.issues) <= 300
    assert len({i.repo for i in result.issues}) >= 30
    assert all(
        json.loads(line).get("demo") is True for line in path.read_text().splitlines() if line
    )


def test_reimport_counts_unchanged_and_changed(db):
    issues = read_snapshot(demo_snapshot_path()).issues[:5]
    assert upsert_issues(db, issues).added == 5
    counts = upsert_issues(
        db, issues[:4] + [issues[4].__class__(**{**issues[4].__dict__, "title": "New"})]
    )
    assert (counts.added, counts.changed, counts.unchanged) == (0, 1, 4)


def test_lines_that_are_not_utf8_are_reported_and_skipped(tmp_path):
    path = tmp_path / "mixed.jsonl"
    good = json.dumps(GOOD).encode("utf-8")
    second = json.dumps(dict(GOOD, url="https://github.com/a/b/issues/2", number=2)).encode()
    path.write_bytes(b"\xef\xbb\xbf" + good + b"\n\xff\xfe garbage\n" + second + b"\n")
    result = read_snapshot(path, load_catalog().labels)
    assert [i.url for i in result.issues] == [
        "https://github.com/a/b/issues/1",
        "https://github.com/a/b/issues/2",
    ]
    assert len(result.errors) == 1 and "line 2: not UTF-8" in result.errors[0]


def test_unanswered_comments_travel_through_import_store_and_export(tmp_path, db):
    record = dict(
        GOOD,
        updated_at="2026-03-04T05:06:07Z",
        unanswered_comments=2,
        unanswered_since="2026-02-01T10:00:00Z",
    )
    plain = dict(GOOD, url="https://github.com/a/b/issues/2", number=2, created_at="2020-01-02")
    source = write_lines(tmp_path / "in.jsonl", [json.dumps(record), json.dumps(plain)])
    read = read_snapshot(source)
    assert not read.errors
    waiting, opened = read.issues
    assert waiting.unanswered_comments == 2 and waiting.unanswered_since.month == 2
    assert (opened.unanswered_comments, opened.unanswered_since) == (0, None)
    assert opened.updated_at is None  # only created_at given: the last activity is unknown
    upsert_issues(db, read.issues)
    stored = sorted(load_issues(db), key=lambda i: i.number)
    assert stored == read.issues
    out = tmp_path / "out.jsonl"
    write_snapshot(out, stored)
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert lines[0]["unanswered_comments"] == 2
    assert lines[0]["unanswered_since"] == "2026-02-01T10:00:00Z"
    assert "unanswered_comments" not in lines[1] and lines[1]["updated_at"] is None
    assert read_snapshot(out).issues == read.issues


@pytest.mark.parametrize(
    "extra,message",
    [
        ({"unanswered_comments": -1}, "key 'unanswered_comments' must be a count"),
        ({"unanswered_comments": "2"}, "key 'unanswered_comments' must be a count"),
        ({"unanswered_comments": 2}, "'unanswered_since' is required"),
        ({"unanswered_since": "2026-01-01"}, "needs 'unanswered_comments' of 1 or more"),
        (
            {"unanswered_comments": 1, "unanswered_since": "last spring"},
            "bad time in 'unanswered_since'",
        ),
    ],
)
def test_bad_unanswered_values_are_reported_by_line(tmp_path, extra, message):
    path = write_lines(tmp_path / "s.jsonl", [json.dumps(GOOD), json.dumps(dict(GOOD, **extra))])
    result = read_snapshot(path)
    assert len(result.issues) == 1 and len(result.errors) == 1
    assert "line 2: " in result.errors[0] and message in result.errors[0]
