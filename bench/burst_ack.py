"""Burst acknowledgement: N /suggest, then 0.3 s later 10 /profile set and 10 button presses.

    python bench/burst_ack.py [--n 50 100] [--issues 20000] [--cache DIR] [--checkout PATH]

Starts the bot as `python -m bot` builds it (one warm index over bench/scale.py's store of that
size, vectors already stored) against the loopback fake Discord (tests/fakes/discord_gateway.py),
sends the burst of tests/bot/burst.py and prints, per command kind, the time from the fake's
INTERACTION_CREATE to the bot's acknowledgement (p50/p95/max) and to its first answer. Discord
drops an interaction not acknowledged within 3 s (`10062 Unknown interaction`).

--checkout PATH runs another checkout's bot (e.g. the main branch before this change) with the
same driver, for a before/after in the same conditions.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_driver(checkout: Path):
    """tests/bot/burst.py of this tree, importing the bot of `checkout`."""
    sys.path[:0] = [str(checkout), str(checkout / "bench")]  # its scale.py puts it first too
    spec = importlib.util.spec_from_file_location("burst_driver", ROOT / "tests/bot/burst.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def seed(url: str, driver, suggesters: int, setters: int, pressers: int):
    from matcher.operations.profiles import clean_profile_update, save_profile
    from matcher.operations.suggestions import record_suggestions
    from matcher.store import Database
    from matcher.store.issues import load_issues

    db = Database(url)
    issue_url = load_issues(db, open_only=True)[0].url
    asking = [driver.new_learner() for _ in range(suggesters)]
    setting = [driver.new_learner() for _ in range(setters)]
    pressing = [driver.new_learner() for _ in range(pressers)]
    skills = ["python, pytorch", "pandas, scikit-learn", "rust, tokenizers", "docker, mlops"]
    for n, learner in enumerate(asking + setting + pressing):
        # distinct profiles: every /suggest encodes and ranks a profile of its own
        text = f"{skills[n % len(skills)]}, topic{n}"
        save_profile(db, learner, clean_profile_update(skills=text, niche="nlp"))
    buttons = []
    for learner in pressing:
        keys = record_suggestions(db, learner, [issue_url], via="suggest")
        buttons.append((learner, f"match:interested:{keys[issue_url]}"))
    db.close()
    return asking, setting, buttons


async def run_burst(url: str, driver, n: int, gap: float):
    import pytest
    import scale

    from bot.__main__ import build_bot
    from bot.settings import load_bot_settings
    from matcher.settings import load_settings
    from tests.fakes.discord_gateway import APP_ID

    asking, setting, buttons = seed(url, driver, n, 10, 10)
    fake = await driver.TimedFake().start()
    patch = pytest.MonkeyPatch()
    fake.patch(patch)
    patch.setenv("BOT_SYNC_COMMANDS", "global")
    settings = load_settings().model_copy(update={"database_url": url})
    bot = build_bot(load_bot_settings(), settings, embedder=scale.HashingEmbedder())
    async with bot:
        runner = asyncio.create_task(bot.start(driver.TOKEN))
        try:
            await asyncio.wait_for(bot.wait_until_ready(), 60)
            await asyncio.wait_for(bot._warm_up, 600)
            await fake.wait_for_request("PUT", f"/applications/{APP_ID}/commands")
            started = time.perf_counter()
            result = await driver.burst(fake, asking, setting, buttons, gap=gap, timeout=600)
            seconds = time.perf_counter() - started
        finally:
            await bot.close()
            await asyncio.wait_for(runner, 30)
            await fake.stop()
            patch.undo()
    return result, seconds


def line(driver, result, kind: str, which: str) -> str:
    times = result.times(kind, which)
    if not times:
        return f"  {kind:<12} {which:<6} none answered"
    late = sum(t > 3.0 for t in times)
    return (
        f"  {kind:<12} {which:<6} p50 {1000 * statistics.median(times):6.0f} ms  "
        f"p95 {1000 * driver.percentile(times, 0.95):6.0f} ms  "
        f"max {1000 * max(times):6.0f} ms  (n={len(times)}, over 3 s: {late})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[50, 100])
    parser.add_argument("--issues", type=int, default=20000)
    parser.add_argument("--gap", type=float, default=0.3)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/matcher-scale-cache"))
    parser.add_argument("--checkout", type=Path, default=ROOT)
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    driver = load_driver(args.checkout.resolve())
    import scale

    import bot

    print(
        f"bot from {Path(bot.__file__).parent}; {args.issues:,} stored issues; "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}"
    )
    scale.store(args.issues, args.cache)[0].close()
    source = args.cache / f"scale-{args.issues}.sqlite"
    for n in args.n:
        with tempfile.TemporaryDirectory() as tmp:
            for suffix in ("", "-wal"):  # the bot writes: it gets a copy
                if Path(f"{source}{suffix}").exists():
                    shutil.copy(f"{source}{suffix}", Path(tmp) / f"bot.sqlite{suffix}")
            result, seconds = asyncio.run(
                run_burst(f"sqlite:///{tmp}/bot.sqlite", driver, n, args.gap)
            )
        lost = len(result.missing())
        print(
            f"N={n} /suggest + 10 /profile set + 10 buttons {args.gap} s later: "
            f"all answered in {seconds:.1f} s, unanswered {lost}"
        )
        for kind in driver.KINDS:
            print(line(driver, result, kind, "ack"))
        for kind in driver.KINDS:
            print(line(driver, result, kind, "answer"))


if __name__ == "__main__":
    main()
