"""Run a command again and again at a fixed interval: `matcher sync --every 6h` in a container."""

from __future__ import annotations

import logging
import re
import signal
import sys
import time
from collections.abc import Callable

from matcher import metrics
from matcher.errors import ConfigError, MatcherError
from matcher.health import beat

log = logging.getLogger(__name__)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_interval(text: str) -> float:
    """'6h', '30m', '1d', '90s' -> seconds."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhd])\s*", text.lower())
    if not match or float(match.group(1)) <= 0:
        raise ConfigError(f"--every: {text!r} is not an interval like 6h, 30m, 1d or 90s")
    return float(match.group(1)) * _UNITS[match.group(2)]


def run_every(every: str, name: str, run: Callable[[], None]) -> None:
    """Call `run` now and then every `every`, until the process is stopped.

    A run that fails with a MatcherError (GitHub down, another sync holding the lock) is logged
    in one line and the next one still happens; each run ends with a health beat `name`.
    """
    seconds = parse_interval(every)
    # `docker compose stop` sends SIGTERM: leave through the with-blocks, releasing the sync lock
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        started = time.monotonic()
        beat(name, "running")
        try:
            run()
            beat(name, "ok")
        except MatcherError as exc:
            log.error("%s failed: %s", name, exc)
            if name == "sync":
                metrics.sync_failed(exc.__class__.__name__)
            beat(name, "failed")
        pause = max(0.0, seconds - (time.monotonic() - started))
        log.info("next %s in %.0f minutes", name, pause / 60)
        time.sleep(pause)
