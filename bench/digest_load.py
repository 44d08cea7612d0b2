"""200 learners whose digests are due in the same hour: time to serve them all, each exactly once.

Runs the real bot (real discord.py code paths) against simcord's in-memory Discord, with the
real engine over the demo snapshot (220 issues). Learners sit in five time zones whose chosen
local hour is the same UTC hour (Thursday 03:00 UTC). The bot is restarted after the pass and the
clock moved on, to show no learner gets a second digest that week.

    python bench/digest_load.py                 # hashing embedder: measures the bot, not the model
    python bench/digest_load.py --model         # the real sentence-transformers model (MiniLM)
    python bench/digest_load.py --learners 500
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from tempfile import TemporaryDirectory

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import simcord  # noqa: E402

from bot.client import MatchBot  # noqa: E402
from bot.settings import BotSettings  # noqa: E402
from matcher.engine import MatchEngine  # noqa: E402
from matcher.operations.digests import deliveries  # noqa: E402
from matcher.operations.profiles import clean_profile_update, save_profile, set_digest  # noqa: E402
from matcher.settings import load_settings  # noqa: E402
from matcher.snapshot import demo_snapshot_path, read_snapshot  # noqa: E402
from matcher.store import Database  # noqa: E402
from matcher.store.issues import upsert_issues  # noqa: E402

HOUR = 3600
# (time zone, weekday, local hour) that all fall on Thursday 2026-01-01 03:00 UTC
SLOTS = [
    ("UTC", 3, 3),
    ("Europe/London", 3, 3),
    ("Europe/Berlin", 3, 4),
    ("America/New_York", 2, 22),  # Wednesday evening there
    ("Asia/Tokyo", 3, 12),
]
PROFILES = [
    ("Python, PyTorch, OpenCV, image augmentation", "computer vision"),
    ("Python, Hugging Face transformers, tokenizers", "nlp"),
    ("technical writing, Markdown, Sphinx", "documentation"),
    ("Python, pandas, scikit-learn, feature engineering", "classical ml"),
    ("Docker, Kubernetes, CI, MLflow", "mlops"),
    ("JAX, NumPy, probabilistic programming", "bayesian"),
    ("Rust, Python bindings, performance", "tooling"),
    ("Python, reinforcement learning, gymnasium", "rl"),
]


def make_embedder(real_model: bool):
    if real_model:
        from matcher.embedding import load_embedder

        return load_embedder()
    from tests.bot.fakes import HashingEmbedder

    return HashingEmbedder()


def make_bot(url: str, embedder, settings) -> MatchBot:
    db = Database(url)
    bot_settings = BotSettings(sync_commands="global", digest_check_seconds=HOUR, digest_count=5)
    return MatchBot(
        settings=bot_settings, db=db, engine=MatchEngine(db, settings, embedder=embedder)
    )


async def run(learners: int, real_model: bool) -> int:
    with TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.sqlite"
        settings = load_settings(database_url=url)
        db = Database(url)
        snapshot = read_snapshot(demo_snapshot_path())
        upsert_issues(db, snapshot.issues)
        embedder = make_embedder(real_model)
        # Embed the issues once up front, as `python -m matcher sync` would have done.
        MatchEngine(db, settings, embedder=embedder).candidates()

        bot = make_bot(url, embedder, settings)
        async with simcord.run(bot, settle_timeout=600) as env:
            guild = env.create_guild("Load")
            users = [guild.add_member(env.create_user(f"learner{i}")) for i in range(learners)]
            since = datetime(
                2025, 12, 31, 23, tzinfo=UTC
            )  # switched on an hour before the bench starts
            for i, member in enumerate(users):
                zone, weekday, hour = SLOTS[i % len(SLOTS)]
                skills, niche = PROFILES[i % len(PROFILES)]
                update = clean_profile_update(
                    skills=f"{skills}, topic{i % 13}",
                    niche=niche,
                    digest_weekday=weekday,
                    digest_hour=hour,
                    timezone=zone,
                )
                save_profile(db, str(member.id), update, guild_id=str(guild.id))
                set_digest(db, str(member.id), True, now=since)

            await env.advance_time(2 * HOUR + 59 * 60)  # 02:59: nobody is due yet
            assert not deliveries(db), "a digest went out before its hour"
            digest_cog = env.bot.get_cog("Digest")
            started = time.perf_counter()
            await env.advance_time(2 * 60)  # 03:01: the 03:00 tick serves everyone
            wall = time.perf_counter() - started
            report = digest_cog.last_report

            counts = Counter(
                len([m for m in u.user.dm_channel.history() if m.author.bot]) for u in users
            )
            stored = deliveries(db)

            # Restart mid-week and let a day pass: nobody gets a second digest.
            old = env.bot
            await env.restart_bot(make_bot(url, embedder, settings))
            old.db.close()
            await env.advance_time(24 * HOUR)
            after = Counter(
                len([m for m in u.user.dm_channel.history() if m.author.bot]) for u in users
            )
            env.bot.db.close()

        db.close()
        model = "all-MiniLM-L6-v2" if real_model else "hashing embedder"
        print(
            f"learners due in the same hour: {learners} ({len(SLOTS)} time zones), "
            f"{len(snapshot.issues)} issues, {model}"
        )
        print(f"digest pass: {report}")
        print(f"wall time of the tick (ranking + {learners} DMs through discord.py): {wall:.2f}s")
        print(
            f"DMs per learner after the pass: {dict(counts)}; "
            f"after a restart and a day: {dict(after)}"
        )
        print(f"delivery rows: {len(stored)} ({dict(Counter(d.status for d in stored))})")
        ok = counts == Counter({1: learners}) and after == counts and len(stored) == learners
        print(
            "OK: every learner got exactly one digest"
            if ok
            else "FAILED: not exactly one digest each"
        )
        return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--learners", type=int, default=200)
    parser.add_argument(
        "--model", action="store_true", help="use the real sentence-transformers model"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    return asyncio.run(run(args.learners, args.model))


if __name__ == "__main__":
    sys.exit(main())
