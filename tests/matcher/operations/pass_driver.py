"""A small process running background passes against a store, for the multi-process tests.

    python -m tests.matcher.operations.pass_driver digest URL DIR NAME [--send-delay S] ...
    python -m tests.matcher.operations.pass_driver portfolio URL DIR NAME --github URL

`digest` runs digest passes until nobody is due and no reservation is open. Sending a digest
appends "learner week" to DIR/NAME.sent (the stand-in for Discord's DM history: a retry looks
there first, as the bot looks at the DMs); every planned digest appends "learner week retry" to
DIR/NAME.planned. A store error ends the pass, as in the bot's loop, and the next pass retries.
`portfolio` runs one portfolio refresh pass and prints what it did as JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from matcher.engine import MatchEngine
from matcher.errors import StoreError
from matcher.operations import digests
from matcher.operations.digests import PlannedDigest, plan_due_digests, record_delivery
from matcher.settings import load_settings
from matcher.store import Database
from matcher.store import digests as digest_store
from tests.bot.fakes import HashingEmbedder

log = logging.getLogger("pass_driver")


def sent_before(folder: Path, planned: PlannedDigest) -> bool:
    line = f"{planned.learner.learner_id} {planned.week}\n"
    return any(line in path.read_text().splitlines(keepends=True) for path in folder.glob("*.sent"))


def run_digests(args: argparse.Namespace) -> int:
    digests.OWNER_TTL = timedelta(seconds=args.owner_ttl)
    digests.STALE_AFTER = timedelta(seconds=args.stale_after)
    folder = Path(args.dir)
    db = Database(args.url)
    engine = MatchEngine(db, load_settings(database_url=args.url), embedder=HashingEmbedder())
    deadline = time.monotonic() + args.timeout
    with (
        open(folder / f"{args.name}.sent", "a") as sent,
        open(folder / f"{args.name}.planned", "a") as planned_log,
    ):
        while time.monotonic() < deadline:
            try:
                if one_pass(db, engine, folder, sent, planned_log, args.send_delay):
                    print("done", flush=True)
                    return 0
            except StoreError as error:  # the bot's loop survives this and tries next tick
                log.warning("pass failed, retrying: %s", error)
            time.sleep(args.pass_every)
    print("timed out", flush=True)
    return 1


def one_pass(db, engine, folder: Path, sent, planned_log, delay: float) -> bool:
    """One digest pass; True when nothing is left to do."""
    plan = plan_due_digests(db, engine, now=datetime.now(UTC), top_k=3)
    for p in plan.digests:
        planned_log.write(f"{p.learner.learner_id} {p.week} {int(p.retry)}\n")
    planned_log.flush()
    for p in plan.digests:
        if p.retry and sent_before(folder, p):
            outcome, detail = "dm", "retry"
        else:
            sent.write(f"{p.learner.learner_id} {p.week}\n")
            sent.flush()
            time.sleep(delay)
            outcome, detail = "dm", None
        try:
            record_delivery(db, p, outcome, detail=detail, now=datetime.now(UTC))
        except StoreError as error:  # left unconfirmed: this owner's next pass retries it
            log.warning("cannot record the digest of %s: %s", p.learner.learner_id, error)
    return not plan.due and not plan.digests and not digest_store.open_reservations(db)


def run_portfolio(args: argparse.Namespace) -> int:
    from matcher.github.pulls import PullsClient, make_github
    from matcher.operations.portfolios import refresh_portfolios

    db = Database(args.url)
    barrier = Path(args.dir)
    (barrier / f"ready-{args.name}").touch()
    while not (barrier / "go").exists():
        time.sleep(0.002)
    done = refresh_portfolios(
        db, lambda: PullsClient(make_github(args.github, args.token, retries=2, timeout=10))
    )
    print(json.dumps({"ran": done.ran, "refreshed": len(done.refreshed), "failed": done.failed}))
    return 0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["digest", "portfolio"])
    parser.add_argument("url")
    parser.add_argument("dir")
    parser.add_argument("name")
    parser.add_argument("--send-delay", type=float, default=0.0)
    parser.add_argument("--owner-ttl", type=float, default=3.0)
    parser.add_argument("--stale-after", type=float, default=120.0)
    parser.add_argument("--pass-every", type=float, default=0.5)
    parser.add_argument("--timeout", type=float, default=240.0)
    parser.add_argument("--github", default="")
    parser.add_argument("--token", default="")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format=f"{args.name} %(levelname)s %(message)s")
    return run_digests(args) if args.mode == "digest" else run_portfolio(args)


if __name__ == "__main__":
    sys.exit(main())
