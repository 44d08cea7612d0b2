"""Privacy costs: redacting an error text, and exporting or deleting one learner's rows.

    python bench/privacy.py [--db URL] [--suggestions 500] [--contributions 200] [--runs 15]

redact(): median time for a 200-character GitHub error text against the floor of one
`str.replace` of the same text, measured in the same run, with the ratio. Export and delete: a
learner with N suggestions (their answers and claims), M merged pull requests with attributions,
a verified identity and a digest, among 50 other learners like them; median milliseconds per
export and per delete (the data is rebuilt before each delete). Default store: a SQLite file in a
temporary directory; --db runs it against another store (e.g. an empty PostgreSQL database).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from matcher.models import Attribution, Contribution
from matcher.operations.privacy import delete_learner_data, export_learner_json
from matcher.operations.profiles import update_profile
from matcher.redact import redact, remember_secret
from matcher.store import Database
from matcher.store import portfolio as identity_store
from matcher.store import suggestions as suggestion_store

NOW = datetime(2026, 11, 1, tzinfo=UTC)
ERROR_TEXT = (
    "GitHub answered HTTP 403 for merged pull requests of 'ada': Resource not accessible by "
    "integration; see https://docs.github.com/rest/search/search#search-issues-and-pull-requests"
)


def median_us(func: Callable[[], object], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        for _ in range(100):
            func()
        times.append((time.perf_counter() - start) / 100 * 1e6)
    return statistics.median(times)


def seed_learner(db: Database, learner_id: str, n: int, suggestions: int, pulls: int) -> None:
    """One learner with `suggestions` suggestions and `pulls` merged pull requests."""
    login = f"learner-{n}"
    update_profile(db, learner_id, guild_id="1", now=NOW, skills="python, nlp", niche="nlp")
    urls = [f"https://github.com/acme/r{n}/issues/{i}" for i in range(suggestions)]
    suggestion_store.record_suggestions(db, learner_id, urls, via="suggest", guild_id="1", now=NOW)
    identity_store.save_claim(db, learner_id, login, "0" * 64, NOW + timedelta(days=1))
    identity_store.mark_verified(db, learner_id, 10_000 + n, login)
    pulls_ = [
        Contribution(
            url=f"https://github.com/acme/r{n}/pull/{i}",
            repo=f"acme/r{n}",
            number=i,
            title=f"Fix {i}",
            merged_at=NOW + timedelta(days=1),
            author_id=10_000 + n,
            author_login=login,
            closes=(urls[i % len(urls)],) if urls else (),
        )
        for i in range(pulls)
    ]
    identity_store.add_contributions(db, pulls_)
    for c in pulls_[: min(pulls, suggestions)]:
        identity_store.add_attribution(db, Attribution(c.url, learner_id, c.closes[0], NOW))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", help="SQLAlchemy URL of an empty store (default: temp SQLite)")
    parser.add_argument("--suggestions", type=int, default=500)
    parser.add_argument("--contributions", type=int, default=200)
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    remember_secret("ghp_" + "x" * 36)
    took = median_us(lambda: redact(ERROR_TEXT), args.runs)
    floor = median_us(lambda: ERROR_TEXT.replace("ghp_secret", "[redacted]"), args.runs)
    print(f"redact(): {took:.1f} us per 200-character text; floor {floor:.2f} us (one replace)")
    print(f"  ratio {took / floor:.0f}x; 1,000 error lines cost {took:.1f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db or f"sqlite:///{Path(tmp) / 'privacy.sqlite'}"
        db = Database(url, migrate=True)
        for n in range(1, 51):
            seed_learner(db, str(900 + n), n, args.suggestions, args.contributions)
        exports, deletes, size = [], [], 0
        for run in range(args.runs):
            learner = str(800_000 + run)
            seed_learner(db, learner, 100 + run, args.suggestions, args.contributions)
            start = time.perf_counter()
            size = len(export_learner_json(db, learner))
            exports.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            report = delete_learner_data(db, learner)
            deletes.append((time.perf_counter() - start) * 1000)
        db.close()
    print(
        f"learner with {args.suggestions} suggestions, {args.contributions} merged PRs, among 50 "
        f"others ({db.engine.dialect.name}): export {statistics.median(exports):.1f} ms "
        f"({size / 1024:.0f} KiB JSON), delete {statistics.median(deletes):.1f} ms "
        f"({report.total} rows) - medians of {args.runs}"
    )


if __name__ == "__main__":
    main()
