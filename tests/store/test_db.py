"""The store handle: every way of failing to open or write it is one StoreError line, and nothing
already stored is lost."""

import pytest
from sqlalchemy import event

from matcher.errors import StoreError
from matcher.models import Issue
from matcher.store import Database
from matcher.store.issues import load_issues, upsert_issues


def issue(n: int, title: str = "Fix typo") -> Issue:
    return Issue(url=f"https://github.com/a/b/issues/{n}", repo="a/b", number=n, title=title, body="",
                 labels=("good first issue",))


def test_store_under_a_file_is_one_line(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="cannot create the directory .*not-a-dir"):
        Database(f"sqlite:///{blocker / 'store.sqlite'}")


def test_missing_driver_is_one_line_and_hides_the_password():
    with pytest.raises(StoreError, match="driver is not installed") as info:
        Database("postgresql+psycopg://user:s3cret@localhost/db")
    assert "s3cret" not in str(info.value)


def test_sqlite_uri_creates_no_stray_directory(tmp_path, monkeypatch):
    path = tmp_path / "s.sqlite"
    Database(f"sqlite:///{path}").close()
    monkeypatch.chdir(tmp_path)
    db = Database(f"sqlite:///file:{path}?mode=ro&uri=true")
    assert load_issues(db) == []
    assert not (tmp_path / "file:").exists()
    db.close()


def test_read_only_store_is_one_line_and_keeps_what_is_stored(tmp_path):
    path = tmp_path / "s.sqlite"
    db = Database(f"sqlite:///{path}")
    upsert_issues(db, [issue(1)])
    db.close()
    ro = Database(f"sqlite:///file:{path}?mode=ro&uri=true")
    with pytest.raises(StoreError, match="attempt to write a readonly database"):
        upsert_issues(ro, [issue(1, "Changed"), issue(2)])
    ro.close()
    db = Database(f"sqlite:///{path}")
    assert [(i.number, i.title) for i in load_issues(db)] == [(1, "Fix typo")]
    db.close()


def test_upsert_reads_existing_rows_in_one_query(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 's.sqlite'}")
    upsert_issues(db, [issue(n) for n in range(1, 51)])
    selects = []
    event.listen(db.engine, "before_cursor_execute",
                 lambda conn, cursor, statement, *a: selects.append(statement)
                 if statement.lstrip().upper().startswith("SELECT") else None)
    counts = upsert_issues(db, [issue(n, "Changed" if n % 2 else "Fix typo") for n in range(1, 61)])
    assert (counts.added, counts.changed, counts.unchanged) == (10, 25, 25)
    assert len([s for s in selects if "FROM issues" in s]) == 1
    db.close()
