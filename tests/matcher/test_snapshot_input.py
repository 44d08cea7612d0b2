"""Issue 12, cases 1-3 and 6: bad input never aborts an import, never destroys a file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import text

from matcher.catalog import load_catalog
from matcher.errors import SnapshotError, StoreError
from matcher.snapshot import import_snapshot, read_snapshot, write_snapshot
from matcher.store import Database
from matcher.store.db import open_read_only
from matcher.store.issues import load_issues, upsert_issues
from tests.conftest import make_issue

GOOD = {
    "url": "https://github.com/a/b/issues/1",
    "repo": "a/b",
    "number": 1,
    "title": "Fix typo",
    "body": "The README has a typo.",
    "labels": ["good first issue"],
}


def good(n: int, **extra) -> dict:
    return dict(GOOD, url=f"https://github.com/a/b/issues/{n}", number=n, **extra)


def write_lines(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


ISSUES = [make_issue(n, f"Issue {n}") for n in range(1, 6)]


# --- case 1: export never destroys a special file ------------------------------------------
def test_export_to_a_fifo_writes_through_and_keeps_the_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()))
    reader.start()
    assert write_snapshot(fifo, ISSUES) == 5
    reader.join(timeout=10)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert len(received[0].decode().splitlines()) == 5
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]  # no temporary file left


def test_export_to_dev_full_is_one_error_and_the_device_stays(tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full")
    with pytest.raises(SnapshotError, match="No space left"):
        write_snapshot("/dev/full", ISSUES)
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_export_follows_a_symlink_keeps_mode_and_refuses_a_directory(tmp_path):
    target = tmp_path / "real.jsonl"
    target.write_text("old\n")
    target.chmod(0o640)
    link = tmp_path / "link.jsonl"
    link.symlink_to(target)
    write_snapshot(link, ISSUES)
    assert link.is_symlink() and len(target.read_text().splitlines()) == 5
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    with pytest.raises(SnapshotError, match="is a directory"):
        write_snapshot(tmp_path, ISSUES)


def test_a_failed_export_leaves_the_old_file_whole(tmp_path):
    out = tmp_path / "backup.jsonl"
    out.write_text("precious\n")

    def broken():
        yield ISSUES[0]
        raise OSError(28, "No space left on device")

    with pytest.raises(SnapshotError, match="No space left"):
        write_snapshot(out, broken())
    assert out.read_text() == "precious\n"
    assert [p.name for p in tmp_path.iterdir()] == ["backup.jsonl"]


# --- case 2: one bad value never aborts the import -------------------------------------------
BAD_VALUES = [
    good(2, stars=2**63),
    good(3, comments=2**64),
    dict(GOOD, url="https://github.com/a/b/issues/9223372036854775808", number=2**63),
    good(4, language={"name": "Python", "secret": "row data"}),
    good(5, language=["Python"]),
    good(6, title="\ud800"),
    good(7, created_at="0001-01-01T00:00:00+05:00"),
]


def test_each_bad_value_is_one_reported_line_and_the_valid_lines_load(tmp_path, db):
    lines = [json.dumps(good(1))]
    lines += [json.dumps(record) for record in BAD_VALUES]
    lines += ["[" * 100_000 + "]" * 100_000, json.dumps(good(10))]
    report = import_snapshot(db, write_lines(tmp_path / "s.jsonl", lines))
    assert [int(e.split(": line ")[1].split(":")[0]) for e in report.result.errors] == list(
        range(2, 10)
    )
    assert "row data" not in " ".join(report.result.errors)
    assert "nested too deeply" in report.result.errors[-1]
    assert [i.number for i in load_issues(db)] == [1, 10]


# --- case 3: nothing is stored with a wrong meaning --------------------------------------------
@pytest.mark.parametrize(
    "record, says",
    [
        (good(2, claimed="false"), "key 'claimed' must be true or false"),
        (good(2, state=["open"]), "key 'state' must be 'open' or 'closed'"),
        (dict(GOOD, url="https://github.com/x/y/issues/1"), "is not a/b#1"),
        (dict(GOOD, url="javascript:alert(1)//github.com/a/b/issues/1"), "key 'url' must be"),
        (good(0), "key 'number' must be an issue number"),
    ],
)
def test_a_value_with_another_meaning_is_reported(tmp_path, record, says):
    result = read_snapshot(write_lines(tmp_path / "s.jsonl", [json.dumps(record)]))
    assert not result.issues and says in result.errors[0]


def test_the_same_url_in_another_letter_case_is_one_issue(tmp_path, db):
    upsert_issues(db, [make_issue(1, "Stored", repo="Big/Repo")])
    lines = [
        json.dumps(dict(GOOD, url="https://github.com/big/repo/issues/1", repo="big/repo")),
        json.dumps(
            dict(GOOD, url="https://github.com/BIG/REPO/issues/2", repo="big/repo", number=2)
        ),
        json.dumps(
            dict(GOOD, url="https://github.com/big/repo/issues/2", repo="big/repo", number=2)
        ),
    ]
    report = import_snapshot(db, write_lines(tmp_path / "s.jsonl", lines))
    assert len(report.result.errors) == 1 and "line 3: duplicate url" in report.result.errors[0]
    stored = load_issues(db)
    assert [i.url for i in stored] == [
        "https://github.com/Big/Repo/issues/1",  # the stored spelling, updated in place
        "https://github.com/BIG/REPO/issues/2",
    ]
    assert stored[0].title == "Fix typo"


def test_claimed_false_and_claims_in_comments_keep_their_meaning(tmp_path):
    lines = [
        json.dumps(good(1, claimed=False)),
        json.dumps(good(2, claimed=True)),
        json.dumps(good(3, comments=["I'd like to work on this"], claimed=False)),
    ]
    issues = read_snapshot(write_lines(tmp_path / "s.jsonl", lines), load_catalog().labels).issues
    assert [i.claimed for i in issues] == [False, True, True]


# --- case 6: a store is read without writing --------------------------------------------------
def test_read_only_opening_writes_nothing(tmp_path):
    path = tmp_path / "store.sqlite"
    db = Database(f"sqlite:///{path}")
    upsert_issues(db, ISSUES)
    db.close()
    before = path.read_bytes()
    reader = open_read_only(f"sqlite:///{path}")
    assert len(load_issues(reader)) == 5
    with pytest.raises(StoreError, match="readonly"), reader.session() as session:
        session.execute(text("CREATE TABLE intruder (x)"))
    reader.close()
    assert path.read_bytes() == before


def test_reading_a_missing_store_is_one_error(tmp_path):
    with pytest.raises(StoreError, match="no store at"):
        open_read_only(f"sqlite:///{tmp_path / 'none.sqlite'}")
    assert not (tmp_path / "none.sqlite").exists()


@contextmanager
def small_mount(path: Path, size: str = "2m"):
    """A tmpfs of `size` at `path` (root only); skips the test where mounting is not allowed."""
    path.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
    )
    if done.returncode:
        pytest.skip("cannot mount a tmpfs here (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def test_a_store_on_a_read_only_mount_can_be_exported(tmp_path):
    with small_mount(tmp_path / "mnt") as mnt:
        db = Database(f"sqlite:///{mnt / 'store.sqlite'}")
        upsert_issues(db, ISSUES)
        db.close()
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        with pytest.raises(OSError):
            (mnt / "probe").write_text("x")
        reader = open_read_only(f"sqlite:///{mnt / 'store.sqlite'}")
        assert write_snapshot(tmp_path / "out.jsonl", load_issues(reader)) == 5
        reader.close()


def test_a_store_on_a_full_disk_can_be_exported_elsewhere(tmp_path):
    with small_mount(tmp_path / "mnt") as mnt:
        db = Database(f"sqlite:///{mnt / 'store.sqlite'}")
        upsert_issues(db, ISSUES)
        db.close()
        for name in os.listdir(mnt):
            if name.endswith(("-wal", "-shm")):
                os.unlink(mnt / name)
        # fill the disk to the last byte; unbuffered, so closing has nothing left to flush
        with open(mnt / "filler", "wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"\0" * 65536)
                    filler.flush()
            except OSError:
                pass
        reader = open_read_only(f"sqlite:///{mnt / 'store.sqlite'}")
        assert write_snapshot(tmp_path / "out.jsonl", load_issues(reader)) == 5
        with pytest.raises(SnapshotError, match="No space left"):
            write_snapshot(mnt / "out.jsonl", load_issues(reader))
        assert not (mnt / "out.jsonl").exists()
        reader.close()
