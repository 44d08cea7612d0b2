"""The portfolio refresh pass as one operation: one process at a time, under a store lease.

Several bot processes (or a CLI run) may share a store; each runs the pass on its own timer.
The first to take the `portfolio-refresh` lease runs it and renews the lease while it works;
the others find it held and skip their turn, so GitHub is asked once per pass, not once per
process. A process that dies mid-pass stops renewing; the lease expires and the next pass runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from matcher import portfolio as lib
from matcher.errors import AuthError, MatcherError, RateLimitError
from matcher.github.pulls import PullsClient
from matcher.models import Identity
from matcher.store import leases
from matcher.store import portfolio as store
from matcher.store.db import Database

log = logging.getLogger(__name__)

PORTFOLIO_LEASE = "portfolio-refresh"


@dataclass
class RefreshPass:
    """What one portfolio refresh pass did (or who ran it instead)."""

    ran: bool
    holder: str | None = None  # the process that holds the lease, when this one did not run
    refreshed: list[tuple[Identity, lib.RefreshReport]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (login, why)
    # GitHub refused the token or ran out of quota: the rest of the pass waits for the next
    stopped_by: MatcherError | None = None


def refresh_portfolios(
    db: Database,
    make_client: Callable[[], PullsClient],
    *,
    ttl: timedelta = leases.LEASE_TTL,
) -> RefreshPass:
    """Refresh every verified login once, unless another process runs the pass right now."""
    with leases.held(db, PORTFOLIO_LEASE, ttl=ttl) as lease:
        if lease is None:
            holder = leases.holder(db, PORTFOLIO_LEASE)
            log.info("portfolio refresh skipped: %s runs it", holder.owner if holder else "another")
            return RefreshPass(ran=False, holder=holder.owner if holder else None)
        result = RefreshPass(ran=True)
        identities = store.verified_identities(db)
        if identities:
            _refresh_each(db, make_client(), identities, result, lease)
        return result


def _refresh_each(
    db: Database,
    client: PullsClient,
    identities: list[Identity],
    result: RefreshPass,
    lease: leases.Keeper,
) -> None:
    for identity in identities:
        if lease.lost.is_set():  # another process took the pass over: leave the rest to it
            log.warning("portfolio refresh lease lost; stopping this pass")
            return
        try:
            report = lib.refresh(db, client, identity.login)
        except (AuthError, RateLimitError) as error:  # the same for every login: stop the pass
            result.stopped_by = error
            return
        except MatcherError as error:  # one renamed or deleted account must not stop the rest
            log.warning("portfolio refresh of %s failed: %s", identity.login, error)
            result.failed.append((identity.login, str(error)))
            continue
        result.refreshed.append((identity, report))
