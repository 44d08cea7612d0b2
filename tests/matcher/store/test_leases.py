"""Leases: one owner at a time; renewed while it works; taken over only once it stops renewing."""

import threading
import time
from datetime import timedelta

from matcher.store import Database, leases

SHORT = timedelta(seconds=0.6)


def test_one_owner_at_a_time_until_it_releases(db):
    assert leases.acquire(db, "pass", "a")
    assert not leases.acquire(db, "pass", "b")
    assert leases.acquire(db, "pass", "a")  # the owner may take it again (a renewal)
    assert leases.holder(db, "pass").owner == "a"
    assert not leases.release(db, "pass", "b")  # only the owner releases
    assert leases.release(db, "pass", "a")
    assert leases.holder(db, "pass") is None and leases.acquire(db, "pass", "b")


def test_an_expired_lease_is_taken_over_and_its_old_owner_cannot_renew_it(db):
    assert leases.acquire(db, "pass", "a", ttl=SHORT)
    time.sleep(0.7)
    assert leases.holder(db, "pass") is None
    assert leases.acquire(db, "pass", "b", ttl=SHORT)
    assert not leases.renew(db, "pass", "a")  # a woke up: the lease is b's now
    assert leases.renew(db, "pass", "b") and leases.holder(db, "pass").owner == "b"


def test_a_kept_lease_outlives_its_length_and_a_stopped_keeper_lets_it_go(db):
    with leases.held(db, "pass", ttl=SHORT) as keeper:
        assert keeper is not None
        time.sleep(1.0)  # renewed every 0.2 s
        with leases.held(db, "pass", ttl=SHORT) as other:
            assert other is None
        assert leases.live_names(db, {"pass", "nothing"}) == {"pass"}
    assert leases.holder(db, "pass") is None  # released at the end of the block


def test_a_keeper_that_finds_its_lease_taken_says_so(db):
    keeper = leases.Keeper(db, "pass", "a", ttl=SHORT)
    assert leases.acquire(db, "pass", "a", ttl=SHORT)
    leases.release(db, "pass", "a")
    assert leases.acquire(db, "pass", "b", ttl=timedelta(minutes=1))
    keeper.start()
    assert keeper.lost.wait(2)
    keeper.stop()
    assert leases.holder(db, "pass").owner == "b"  # a lost keeper releases nothing


def test_processes_racing_for_an_expired_lease_have_one_winner(db, store_url):
    assert leases.acquire(db, "pass", "dead", ttl=timedelta(seconds=-1))
    handles = [Database(store_url) for _ in range(4)]
    start, winners = threading.Barrier(4), []

    def race(n: int) -> None:
        start.wait()
        if leases.acquire(handles[n], "pass", f"owner-{n}"):
            winners.append(n)

    threads = [threading.Thread(target=race, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for handle in handles:
        handle.close()
    assert len(winners) == 1 and leases.holder(db, "pass").owner == f"owner-{winners[0]}"
