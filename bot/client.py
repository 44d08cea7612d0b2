"""The bot: minimal intents, no mentions, extensions discovered and loaded in setup_hook."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import pkgutil
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import discord
from discord.ext import commands, tasks

import bot.exts
from bot.exts.error_handler import StoreOutage, store_unavailable
from bot.settings import BotSettings
from bot.workers import Workers
from matcher import metrics
from matcher.errors import ConfigError, MatcherError
from matcher.health import beat, health_dir_configured, store_reachable
from matcher.operations import Database
from matcher.operations.meta import remember, remembered

if TYPE_CHECKING:
    from matcher.operations import MatchEngine
    from matcher.operations.github_logins import PullsClient

log = logging.getLogger(__name__)
T = TypeVar("T")

FIRST_EXTENSIONS = ("bot.exts.error_handler",)  # installed before anything can fail
HEARTBEAT_SECONDS = 60  # the image's HEALTHCHECK allows three missed beats


def discover_extensions() -> list[str]:
    """Every module under bot/exts (private `_name` modules excepted), the error handler first."""
    found = sorted(
        f"{bot.exts.__name__}.{module.name}"
        for module in pkgutil.iter_modules(bot.exts.__path__)
        if not module.name.startswith("_")
    )
    return [name for name in FIRST_EXTENSIONS if name in found] + [
        n for n in found if n not in FIRST_EXTENSIONS
    ]


def bot_intents() -> discord.Intents:
    """Slash commands and buttons need no privileged intent; `guilds` caches channels and roles."""
    intents = discord.Intents.none()
    intents.guilds = True
    return intents


def shard_options(settings: BotSettings) -> dict[str, Any]:
    """discord.py's sharding arguments from BOT_SHARD_COUNT and BOT_SHARD_IDS (none: unsharded)."""
    if not settings.sharded:
        return {}
    return {"shard_count": settings.shard_count, "shard_ids": settings.shard_ids}


class MatchBot(commands.Bot):
    """Holds the store, the engine and the GitHub client factory; features live in bot/exts.

    pulls_client_factory: builds the portfolio's GitHub client (None: from the matcher settings
    and GITHUB_TOKEN); tests pass one pointed at a fake GitHub, as they pass the engine.
    Blocking work runs on the bot's own executors (`light`, `ranking`: bot/workers.py).
    """

    def __init__(
        self,
        *,
        settings: BotSettings,
        db: Database,
        engine: MatchEngine,
        pulls_client_factory: Callable[[], PullsClient] | None = None,
        portfolio_refresh_seconds: float | None = None,
    ):
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=bot_intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,
            **shard_options(settings),
        )
        self.settings = settings
        self.outage = StoreOutage()
        self.workers = Workers(
            ranking_workers=settings.ranking_workers,
            ranking_queue=settings.ranking_queue,
            store_workers=settings.store_workers,
        )
        self.workers.on_success = self.outage.reachable
        self.metrics_server: metrics.MetricsServer | None = None
        self.stopping = False  # set by close(): loops start no new pass
        self.db = db
        self.engine = engine
        self.pulls_client_factory = pulls_client_factory
        self.portfolio_refresh_seconds = portfolio_refresh_seconds
        self.synced: str | None = None  # 'guild' / 'global' when this start synced (logs, tests)

    async def light(self, func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """Light store work off the event loop, never queued behind rankings."""
        return await self.workers.light(func, *args, **kwargs)

    async def ranking(
        self, func: Callable[..., T], /, *args: Any, bounded: bool = True, **kwargs: Any
    ) -> T:
        """A ranking on the bounded ranking executor (Busy when its queue is full)."""
        return await self.workers.ranking(func, *args, bounded=bounded, **kwargs)

    async def setup_hook(self) -> None:
        sys.setswitchinterval(self.settings.switch_interval_ms / 1000)
        if self.settings.metrics_port is not None:
            self.metrics_server = metrics.serve(
                self.settings.metrics_port, self.settings.metrics_addr
            )
        metrics.watch_index(self.engine)
        for name in discover_extensions():
            await self.load_extension(name)
            log.info("loaded extension %s", name)
        await self.sync_commands()
        self._warm_up = asyncio.create_task(self.warm_up_model())
        if health_dir_configured():  # the image sets MATCHER_HEALTH_DIR for its HEALTHCHECK
            self._heartbeat = asyncio.create_task(self.heartbeat())

    async def close(self) -> None:
        """Stop gracefully: no new passes, the pass in flight finished or its unsent digests
        given back (within BOT_STOP_GRACE_SECONDS), then the gateway closed."""
        if not self.stopping:
            self.stopping = True
            log.info("stopping: finishing the passes in flight, then closing the gateway")
            await self.stop_passes(self.settings.stop_grace_seconds)
        heartbeat = getattr(self, "_heartbeat", None)
        if heartbeat is not None:
            heartbeat.cancel()
        await super().close()
        self.workers.shutdown()
        if self.metrics_server is not None:
            self.metrics_server.stop()
            self.metrics_server = None

    async def stop_passes(self, timeout: float) -> None:
        """Ask every cog with background passes to stop them (`stop_passes(timeout)`)."""
        stops = [
            cog.stop_passes(timeout) for cog in self.cogs.values() if hasattr(cog, "stop_passes")
        ]
        if stops:
            await asyncio.gather(*stops, return_exceptions=True)

    def failed_loops(self) -> list[str]:
        """The background loops (digest, portfolio refresh, ...) whose task died."""
        return [
            f"{cog_name}.{name}"
            for cog_name, cog in self.cogs.items()
            for name, value in vars(type(cog)).items()
            if isinstance(value, tasks.Loop) and getattr(cog, name).failed()
        ]

    async def heartbeat(self) -> None:
        """Beat `bot` (matcher.health) while the gateway is connected and no loop has died."""
        await self.wait_until_ready()
        while not self.is_closed():
            failed = self.failed_loops()
            # the default executor: a ping that hangs on a lost server must not hold a store thread
            reachable = await asyncio.to_thread(store_reachable, self.db)
            if reachable:
                self.outage.reachable()
            else:
                self.outage.failed("no answer to a trivial query")
            if self.is_ready() and not failed and reachable:
                # a few bytes to a local file: cheap enough for the loop itself
                try:
                    beat("bot", f"{len(self.guilds)} servers")
                except OSError as error:  # a full disk: the health check will say so
                    log.warning("cannot write the heartbeat: %s", error.strerror or error)
            else:
                problem = ", ".join(failed) or (
                    "gateway not ready" if not self.is_ready() else "store unreachable"
                )
                log.warning("no heartbeat: %s", problem)
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def warm_up_model(self) -> None:
        """Load the embedding model off the event loop at start, so the first /suggest is quick."""
        try:
            model = await asyncio.to_thread(self.engine.warm_up)  # the model and the index
        except MatcherError as error:  # /suggest will report it to the learner who asks
            log.error("embedding model not loaded: %s", error)
        else:
            log.info("embedding model ready (%s)", model.name)

    async def _remembered(self, key: str) -> str | None:
        try:
            return await self.light(remembered, self.db, key)
        except Exception as error:
            reason = store_unavailable(error)
            if reason is None:
                raise
            log.warning("cannot read the last command sync (%s); syncing", reason)
            return None

    async def _remember(self, key: str, value: str) -> None:
        # A full disk must not stop the bot from starting: the next start syncs again.
        try:
            await self.light(remember, self.db, key, value)
        except Exception as error:
            reason = store_unavailable(error)
            if reason is None:
                raise
            self.outage.failed(reason)

    def command_fingerprint(self, guild: discord.abc.Snowflake | None) -> str:
        payload = [command.to_dict(self.tree) for command in self.tree.get_commands(guild=guild)]
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    async def sync_commands(self) -> None:
        """Sync application commands as configured, and only if they changed since the last sync."""
        mode = self.settings.sync_commands
        if mode == "off":
            log.info("command sync is off (BOT_SYNC_COMMANDS=off)")
            return
        guild_id = self.settings.guild_id if mode == "guild" else None
        guild = discord.Object(id=guild_id) if guild_id is not None else None
        if guild is not None:
            self.tree.copy_global_to(guild=guild)
        key = f"commands:{self.application_id}:{mode}:{guild.id if guild else 'global'}"
        fingerprint = self.command_fingerprint(guild)
        if await self._remembered(key) == fingerprint:
            log.info("application commands unchanged since the last %s sync; not syncing", mode)
            return
        try:
            synced = await self.tree.sync(guild=guild)
        except discord.Forbidden as error:
            # The usual set-up mistakes: a wrong BOT_GUILD_ID, or an invite without the
            # applications.commands scope. One clear line instead of a traceback.
            where = f"server {guild.id} (BOT_GUILD_ID)" if guild else "every server"
            raise ConfigError(
                f"Discord refused to sync the slash commands to {where}: {error.status} "
                f"{error.text or 'Forbidden'} (code {error.code}). Invite the bot to that server "
                "with the applications.commands scope (README, Discord bot, step 3) and check "
                "BOT_GUILD_ID"
            ) from None
        except discord.HTTPException as error:
            # Discord having a bad moment must not stop the bot: the commands synced last time
            # still work, and the next start tries again (the fingerprint was not stored).
            log.warning(
                "command sync failed (%s %s); keeping the commands synced before",
                error.status,
                error.code,
            )
            return
        await self._remember(key, fingerprint)
        self.synced = mode
        log.info("synced %d application commands (%s)", len(synced), mode)


class ShardedMatchBot(MatchBot, commands.AutoShardedBot):
    """The same bot over the shards BOT_SHARD_IDS of BOT_SHARD_COUNT (one gateway each)."""


def bot_class(settings: BotSettings) -> type[MatchBot]:
    """MatchBot, or its sharded form when BOT_SHARD_COUNT is set."""
    return ShardedMatchBot if settings.sharded else MatchBot
