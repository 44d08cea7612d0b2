"""issues.demo (revision 0010, issue 21): invented demo issues stay marked as demo in the store,
in the snapshot format, and in a store that imported the demo before the flag was kept."""

from __future__ import annotations

import json

from alembic import command
from sqlalchemy import text

from matcher.models import Issue
from matcher.snapshot import demo_snapshot_path, import_snapshot, issue_to_record, read_snapshot
from matcher.store import Database
from matcher.store.issues import count_demo_issues, load_issues, upsert_issues
from matcher.store.migrations import alembic_config, head_revision

INSERT = (
    "INSERT INTO issues (url, repo, number, title, body, labels, state, comments, assignees,"
    " linked_prs, claimed, topics, niches, text_hash, stored_at, unanswered_comments)"
    " VALUES (:url, :repo, :n, :title, '', '[]', 'open', 0, '[]', '[]', false, '[]', '[]', 'h',"
    " '2026-11-30 12:00:00', 0)"
)


def test_the_flag_is_read_stored_and_written_back(tmp_path, db):
    report = import_snapshot(db, demo_snapshot_path())
    assert len(report.result.issues) == 220 and all(i.demo for i in report.result.issues)
    assert count_demo_issues(db) == 220
    assert all(issue.demo for issue in load_issues(db))
    records = [issue_to_record(issue) for issue in load_issues(db)]
    assert all(record["demo"] is True for record in records)
    real = issue_to_record(
        Issue(url="https://github.com/a/b/issues/1", repo="a/b", number=1, title="t")
    )
    assert "demo" not in real  # real issues are written as before


def test_a_demo_value_that_is_not_a_boolean_is_a_bad_line(tmp_path):
    record = {
        "url": "https://github.com/a/b/issues/1",
        "repo": "a/b",
        "number": 1,
        "title": "t",
        "body": "",
        "labels": [],
        "demo": "yes",
    }
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps(record) + "\n")
    (error,) = read_snapshot(path).errors
    assert error.endswith("line 1: key 'demo' must be true or false, got a string 'yes'")


def test_0010_marks_demo_issues_imported_before_it_and_nothing_else(store_url):
    demo = json.loads(demo_snapshot_path().read_text().splitlines()[0])
    db = Database(store_url, check=False)
    with db.engine.connect() as connection:
        command.upgrade(alembic_config(connection), "0007")
        connection.commit()
    rows = [
        (demo["url"], demo["repo"], demo["number"], demo["title"]),  # imported from the demo file
        ("https://github.com/a/b/issues/1", "a/b", 1, "A real issue"),
    ]
    with db.engine.begin() as connection:
        for url, repo, n, title in rows:
            connection.execute(text(INSERT), {"url": url, "repo": repo, "n": n, "title": title})
    db.close()

    db = Database(store_url, migrate=True)
    assert db.revision() == head_revision()
    flags = {issue.url: issue.demo for issue in load_issues(db)}
    assert flags == {demo["url"]: True, "https://github.com/a/b/issues/1": False}
    # a real issue that happens to have a demo issue's number keeps its own title: not demo
    upsert_issues(db, [Issue(url=demo["url"], repo=demo["repo"], number=demo["number"], title="x")])
    assert count_demo_issues(db) == 0
    db.close()


def test_0010_downgrades(db):
    from sqlalchemy import inspect

    with db.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0007")
    columns = {column["name"] for column in inspect(db.engine).get_columns("issues")}
    assert "demo" not in columns and "unanswered_comments" in columns
