"""Where blocking matcher work runs: rankings on a bounded executor, light store work on another.

A /suggest burst fills the ranking executor; a /profile set or a button press still finds a free
store thread at once, so it never queues behind rankings. When the ranking queue is full, a new
ranking is refused at once (Busy) and the user is told to try again, instead of waiting past
Discord's interaction window.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from matcher import metrics

log = logging.getLogger(__name__)
T = TypeVar("T")


class Busy(Exception):
    """The ranking queue is full; the user is asked to try again in a minute."""


class Workers:
    """The two executors of one bot process; `shutdown()` when the bot closes."""

    def __init__(self, *, ranking_workers: int, ranking_queue: int, store_workers: int):
        self.ranking_queue = ranking_queue
        self._ranking = ThreadPoolExecutor(ranking_workers, thread_name_prefix="ranking")
        self._store = ThreadPoolExecutor(store_workers, thread_name_prefix="store")
        self._pending = 0  # rankings queued or running, across both kinds of caller
        self._lock = threading.Lock()
        self.on_success: Callable[[], None] = lambda: None  # the outage tracker's "reachable"

    async def light(self, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Run light store work (reads, one write) off the event loop."""
        return await self._run(self._store, func, args, kwargs)

    async def ranking(
        self, func: Callable[..., T], /, *args: Any, bounded: bool = True, **kwargs: Any
    ) -> T:
        """Run a ranking off the event loop; Busy at once when `bounded` and the queue is full.

        The digest pass is not bounded: it is one caller that must not be turned away, and it
        waits its turn like everyone else.
        """
        with self._lock:
            if bounded and self._pending >= self.ranking_queue:
                metrics.RANKING_REJECTED.inc()
                raise Busy(f"{self._pending} rankings queued")
            self._pending += 1
            metrics.RANKING_QUEUE.set(self._pending)
        try:
            return await self._run(self._ranking, func, args, kwargs)
        finally:
            with self._lock:
                self._pending -= 1
                metrics.RANKING_QUEUE.set(self._pending)

    async def _run(
        self, executor: ThreadPoolExecutor, func: Callable[..., T], args: Any, kwargs: Any
    ) -> T:
        call = functools.partial(contextvars.copy_context().run, func, *args, **kwargs)
        result = await asyncio.get_running_loop().run_in_executor(executor, call)
        self.on_success()
        return result

    def shutdown(self) -> None:
        """Stop taking work; running calls finish on their threads (Python cannot kill them)."""
        self._ranking.shutdown(wait=False, cancel_futures=True)
        self._store.shutdown(wait=False, cancel_futures=True)
