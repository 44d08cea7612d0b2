"""Liveness beats: a long-running process touches a file; a health check reads its age.

The bot beats from a loop while its gateway is connected and its store answers, `sync --every`
after every run; a container's HEALTHCHECK runs `python -m matcher.health NAME MAX_AGE_SECONDS`
(a cheap import).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matcher.store.db import Database


def health_dir() -> Path:
    """Where beats are written: MATCHER_HEALTH_DIR, else a folder in the temp directory."""
    return Path(
        os.environ.get("MATCHER_HEALTH_DIR") or Path(tempfile.gettempdir()) / "matcher-health"
    )


def health_dir_configured() -> bool:
    """Whether MATCHER_HEALTH_DIR names where beats go (the image sets it; the bot beats then)."""
    return bool(os.environ.get("MATCHER_HEALTH_DIR"))


def beat(name: str, detail: str = "ok") -> None:
    """Record that `name` is alive now (atomic replace, so a reader never sees half a file)."""
    folder = health_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{name}.beat"
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    partial.write_text(f"{time.time():.0f} {detail}\n")
    partial.replace(target)


def beat_age(name: str) -> float | None:
    """Seconds since `name` last beat; None if it never did."""
    try:
        stamp = (health_dir() / f"{name}.beat").read_text().split(" ", 1)[0]
        return time.time() - float(stamp)
    except (OSError, ValueError):
        return None


def store_reachable(db: Database) -> bool:
    """Whether the store answers a trivial query now (the bot beats only while it does)."""
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError):
        return False
    return True


def main(argv: list[str]) -> int:
    """`python -m matcher.health NAME MAX_AGE_SECONDS`: exit 0 if NAME beat recently enough."""
    if len(argv) != 2 or not argv[1].isdigit():
        print("usage: python -m matcher.health NAME MAX_AGE_SECONDS", file=sys.stderr)
        return 2
    age = beat_age(argv[0])
    if age is None:
        print(f"{argv[0]}: no beat yet in {health_dir()}")
        return 1
    print(f"{argv[0]}: last beat {age:.0f}s ago (limit {argv[1]}s)")
    return 0 if age <= int(argv[1]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
