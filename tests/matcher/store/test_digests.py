"""The digest_deliveries table: exactly one reservation per learner and week, across processes."""

import threading
from datetime import UTC, datetime

from matcher.store import Database
from matcher.store.digests import deliveries, finish_digest, last_digest_weeks, release_digest
from matcher.store.digests import reserve_digest as claim_digest

NOW = datetime(2026, 1, 5, 12, tzinfo=UTC)


def test_digest_claim_is_exactly_once_in_the_database(db):
    assert claim_digest(db, "1", "2026-W02", now=NOW)
    assert not claim_digest(db, "1", "2026-W02", now=NOW)
    finish_digest(db, "1", "2026-W02", "dm")
    assert claim_digest(db, "1", "2026-W03", now=NOW)
    assert last_digest_weeks(db) == {"1": "2026-W03"}
    assert [(d.week, d.status) for d in deliveries(db, "1")] == [
        ("2026-W02", "dm"),
        ("2026-W03", "sending"),
    ]


def test_release_gives_back_only_an_unsent_reservation(db):
    assert claim_digest(db, "1", "2026-W02", now=NOW)
    assert release_digest(db, "1", "2026-W02")
    assert deliveries(db, "1") == [] and last_digest_weeks(db) == {}
    assert claim_digest(db, "1", "2026-W02", now=NOW)  # a later pass may retry it
    finish_digest(db, "1", "2026-W02", "dm")
    assert not release_digest(db, "1", "2026-W02")  # a sent digest is never given back
    assert not claim_digest(db, "1", "2026-W02", now=NOW)


def test_digest_claim_races_between_processes(tmp_path):
    # Two handles on one file stand for two bot processes; only one wins each (learner, week).
    url = f"sqlite:///{tmp_path / 'race.sqlite'}"
    first, second = Database(url), Database(url)
    wins = []

    def run(database):
        for i in range(30):
            if claim_digest(database, str(i), "2026-W02", now=NOW):
                wins.append(i)

    threads = [threading.Thread(target=run, args=(d,)) for d in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(wins) == list(range(30))
