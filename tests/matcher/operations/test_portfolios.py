"""The portfolio refresh pass under its lease, and merged pull requests stored once however many
processes store them."""

import threading

from matcher.models import Contribution
from matcher.operations.portfolios import PORTFOLIO_LEASE, refresh_portfolios
from matcher.store import Database, leases
from matcher.store import portfolio as store
from tests.portfolio.conftest import ADA_ID, fake, gh, make_client, when  # noqa: F401


def _verify_ada(db):
    store.save_claim(db, "1", "ada", "hash", when(1, month=12))
    store.mark_verified(db, "1", ADA_ID, "ada")


def test_the_pass_refreshes_every_verified_login_under_its_lease(db, gh, fake):  # noqa: F811
    _verify_ada(db)
    done = refresh_portfolios(db, lambda: make_client(gh))
    assert done.ran and [(i.login, len(r.added)) for i, r in done.refreshed] == [("ada", 2)]
    assert leases.holder(db, PORTFOLIO_LEASE) is None  # given back at the end


def test_a_second_process_skips_the_pass_while_the_first_holds_it(db, gh, fake):  # noqa: F811
    _verify_ada(db)
    with leases.held(db, PORTFOLIO_LEASE) as first:
        skipped = refresh_portfolios(db, lambda: make_client(gh))
    assert not skipped.ran and skipped.holder == first.owner and skipped.refreshed == []
    assert store.load_contributions(db, author_id=ADA_ID) == []  # GitHub was not asked


def _pull(n: int, title: str = "Fix") -> Contribution:
    return Contribution(
        url=f"https://github.com/acme/lib/pull/{n}",
        author_id=ADA_ID,
        author_login="ada",
        repo="acme/lib",
        number=n,
        title=title,
        merged_at=when(3),
    )


def test_two_processes_storing_the_same_pulls_both_succeed_with_one_row_each(db, store_url):
    handles = [Database(store_url) for _ in range(2)]
    start, counts, errors = threading.Barrier(2), [], []

    def store_all(handle) -> None:
        start.wait()
        try:
            counts.append(store.add_contributions(handle, [_pull(n) for n in range(50)]))
        except Exception as error:  # noqa: BLE001 - the test reports it
            errors.append(error)

    threads = [threading.Thread(target=store_all, args=(h,)) for h in handles]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for handle in handles:
        handle.close()
    assert errors == []
    assert sum(c.added for c in counts) == 50  # each pull request added by exactly one process
    assert sum(c.added + c.unchanged for c in counts) == 100
    stored = store.load_contributions(db, author_id=ADA_ID)
    assert sorted(c.number for c in stored) == list(range(50))
    again = store.add_contributions(db, [_pull(7, title="Fix, retitled")])
    assert (again.added, again.updated) == (0, 1)
