"""The store's share of a digest pass: planning cost per learner at 10k and 100k due learners.

Every learner's digest is due in the same Monday 09:00 slot (five time zones). One pass of
`plan_due_digests` finds them, reserves their weeks, takes over nothing, reads their feedback
(3 suggestions each, community claims) and levels (1% verified with merged pull requests, 10%
working on an issue). Ranking is left out: the engine here returns the same five matches to
everyone at once, so the figures are the store's work (plus registering the five button keys).
For comparison, the per-learner calls the pass made before issue 19 (reserve, feedback, level,
one learner at a time) are timed on a sample of 500 learners of the same store.

    python bench/digest_plan.py                                     # SQLite, 10k and 100k
    python bench/digest_plan.py --url postgresql+psycopg://postgres@127.0.0.1:5432/test
    python bench/digest_plan.py --learners 10000 --url ...          # one size only

A PostgreSQL URL names a server and a database to connect to while creating a throwaway
database (matcher_bench_*) for each size; it is dropped at the end.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, insert, make_url, text  # noqa: E402

from matcher.models import Match  # noqa: E402
from matcher.operations.digests import plan_due_digests  # noqa: E402
from matcher.operations.levels import level_for  # noqa: E402
from matcher.operations.suggestions import feedback_for  # noqa: E402
from matcher.store import Database  # noqa: E402
from matcher.store import digests as digest_store  # noqa: E402
from matcher.store.issues import upsert_issues  # noqa: E402
from matcher.store.learners import LearnerRow, get_learner  # noqa: E402
from matcher.store.portfolio import ContributionRow, IdentityRow  # noqa: E402
from matcher.store.suggestions import IssueClaimRow, SuggestionRow  # noqa: E402
from tests.bot.fakes import ISSUES  # noqa: E402

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)  # Monday noon UTC
SINCE = datetime(2025, 6, 1, tzinfo=UTC)
ZONES = ("UTC", "Europe/London", "Europe/Berlin", "America/New_York", "Asia/Tokyo")
GUILDS = ("100", "200", "300")


class FixedMatches:
    """An engine that ranks nobody: the same five matches for every learner, at once."""

    def __init__(self) -> None:
        self.matches = [Match(issue, 1.0 - i / 10) for i, issue in enumerate(ISSUES[:5])]

    def match_many(self, profiles, **_kwargs) -> dict[str, list[Match]]:
        return {p.id: list(self.matches) for p in profiles}


def populate(db: Database, learners: int) -> None:
    """`learners` learners with their digest on, 3 suggestions each, some claims and merges."""
    upsert_issues(db, ISSUES)
    urls = [i.url for i in ISSUES]
    verified = range(0, learners, 100)
    claims = [
        {"guild_id": g, "issue_url": urls[i], "learner_id": str(i), "claimed_at": NOW}
        for i, g in enumerate(GUILDS)
    ]
    with db.session() as session:
        for start in range(0, learners, 5000):
            ids = range(start, min(start + 5000, learners))
            bulk(session, LearnerRow, [_learner(n) for n in ids])
            bulk(session, SuggestionRow, [_suggestion(n, k, urls) for n in ids for k in range(3)])
        bulk(session, IdentityRow, [_identity(n) for n in verified])
        bulk(session, ContributionRow, [_contribution(n) for n in verified])
        bulk(session, IssueClaimRow, claims)


def bulk(session, model, rows: list[dict]) -> None:
    """Insert rows fast: COPY on PostgreSQL, executemany on SQLite."""
    if session.get_bind().dialect.name != "postgresql":
        session.execute(insert(model), rows)
        return
    columns = list(rows[0])
    raw = session.connection().connection.dbapi_connection
    with raw.cursor() as cursor:
        names = ", ".join(columns)
        with cursor.copy(f"COPY {model.__tablename__} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([_plain(row[c]) for c in columns])


def _plain(value):
    return json.dumps(value) if isinstance(value, list) else value


def _learner(n: int) -> dict:
    return {
        "learner_id": str(n),
        "skills": "python, pytorch, tokenizer",
        "niche": "nlp",
        "languages": "",
        "home_guild_id": GUILDS[n % len(GUILDS)],
        "digest_enabled": True,
        "digest_since": SINCE,
        "digest_weekday": 0,
        "digest_hour": 9,
        "timezone": ZONES[n % len(ZONES)],
        "pace": "auto",
        "updated_at": SINCE,
    }


def _suggestion(n: int, k: int, urls: list[str]) -> dict:
    working = k == 0 and n % 10 == 0
    return {
        "learner_id": str(n),
        "issue_url": urls[(n + k) % len(urls)],
        "guild_id": GUILDS[n % len(GUILDS)],
        "suggested_at": SINCE + timedelta(days=k),
        "via": "suggest",
        "status": "working" if working else ("dismissed" if k == 2 else "suggested"),
        "status_at": SINCE + timedelta(days=k) if working or k == 2 else None,
    }


def _identity(n: int) -> dict:
    return {
        "learner_id": str(n),
        "login": f"user{n}",
        "login_key": f"user{n}",
        "github_id": 10_000_000 + n,
        "verified": True,
        "verified_at": SINCE,
        "created_at": SINCE,
    }


def _contribution(n: int) -> dict:
    return {
        "url": f"https://github.com/acme/lib/pull/{n}",
        "author_id": 10_000_000 + n,
        "author_login": f"user{n}",
        "repo": "acme/lib",
        "number": n,
        "title": "Docs: fix a typo",
        "merged_at": SINCE,
        "labels": ["documentation"],
        "closes": [],
        "repo_topics": [],
        "reverted": False,
        "details": True,
        "first_seen_at": SINCE,
    }


def per_learner_ms(db: Database, learners: int, sample: int) -> float:
    """ms per learner of the calls the pass made one learner at a time before issue 19."""
    ids = [str(n) for n in range(0, learners, max(1, learners // sample))][:sample]
    started = time.perf_counter()
    for learner_id in ids:
        learner = get_learner(db, learner_id)
        assert learner is not None
        digest_store.reserve_digest(db, learner_id, "2099-W01", now=NOW)
        feedback_for(db, learner_id, learner.home_guild_id, for_digest=True, now=NOW)
        level_for(db, learner)
    return (time.perf_counter() - started) * 1000 / len(ids)


def measure(url: str, learners: int) -> dict[str, float]:
    db = Database(url, migrate=True)
    try:
        started = time.perf_counter()
        populate(db, learners)
        filled = time.perf_counter() - started
        cpu = time.process_time()
        plan = plan_due_digests(db, FixedMatches(), now=NOW, top_k=5)  # type: ignore[arg-type]
        cpu = time.process_time() - cpu
        assert plan.due == learners and len(plan.digests) == learners, (plan.due, len(plan.digests))
        again = plan_due_digests(db, FixedMatches(), now=NOW, top_k=5)  # type: ignore[arg-type]
        assert again.digests == []
        t = plan.timings
        return {
            "fill_s": filled,
            "reserve_ms": t["reserve"] * 1000 / learners,
            "read_ms": t["read"] * 1000 / learners,
            "planning_ms": (t["reserve"] + t["read"]) * 1000 / learners,
            "keys_ms": t["keys"] * 1000 / learners,
            "cpu_ms": cpu * 1000 / learners,
            "idle_pass_s": sum(again.timings.values()),
            "before_ms": per_learner_ms(db, learners, 500),
        }
    finally:
        db.close()


def fresh_database(base: str) -> tuple[str, Callable[[], None]]:
    """A throwaway PostgreSQL database on the server of `base`, and how to drop it."""
    name = f"matcher_bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(base).set(database=name).render_as_string(hide_password=False), drop


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--url", default="", help="a PostgreSQL URL (default: SQLite in a temp dir)"
    )
    parser.add_argument("--learners", type=int, action="append", help="default: 10000 and 100000")
    args = parser.parse_args()
    sizes = args.learners or [10_000, 100_000]
    kind = "PostgreSQL" if args.url.startswith("postgresql") else "SQLite"
    print(f"digest planning on {kind}: every learner due in one slot; ranking left out")
    print(
        f"{'learners':>9} {'fill s':>7} {'plan ms/l':>10} {'(reserve':>9} {'read)':>7} "
        f"{'keys ms/l':>10} {'cpu ms/l':>9} {'idle pass s':>12} {'before ms/l':>12}"
    )
    for learners in sizes:
        with TemporaryDirectory() as tmp:
            if kind == "PostgreSQL":
                url, drop = fresh_database(args.url)
            else:
                url, drop = f"sqlite:///{tmp}/bench.sqlite", lambda: None
            try:
                r = measure(url, learners)
            finally:
                drop()
        print(
            f"{learners:>9} {r['fill_s']:>7.1f} {r['planning_ms']:>10.3f} {r['reserve_ms']:>9.3f} "
            f"{r['read_ms']:>7.3f} {r['keys_ms']:>10.4f} {r['cpu_ms']:>9.3f} "
            f"{r['idle_pass_s']:>12.2f} {r['before_ms']:>12.2f}"
        )
    print(
        "plan: find + reserve + read feedback and levels, wall time per due learner (target <= 1 "
        "ms); cpu: this process's CPU time for the whole call (client side only, less affected by "
        "other load); before: the per-learner calls of the old pass, 500 sampled; idle pass: the "
        "next pass, nobody due"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
