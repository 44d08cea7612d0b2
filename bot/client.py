"""The bot: minimal intents, no mentions, extensions discovered and loaded in setup_hook."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import pkgutil
from collections.abc import Callable
from typing import TYPE_CHECKING

import discord
from discord.ext import commands, tasks

import bot.exts
from bot.common import run_blocking
from bot.settings import BotSettings
from matcher.errors import ConfigError, MatcherError
from matcher.health import beat, health_dir_configured
from matcher.operations import Database
from matcher.operations.meta import remember, remembered

if TYPE_CHECKING:
    from matcher.engine import MatchEngine
    from matcher.github.pulls import PullsClient

log = logging.getLogger(__name__)

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


class MatchBot(commands.Bot):
    """Holds the store, the engine and the GitHub client factory; features live in bot/exts.

    pulls_client_factory: builds the portfolio's GitHub client (None: from the matcher settings
    and GITHUB_TOKEN); tests pass one pointed at a fake GitHub, as they pass the engine.
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
        )
        self.settings = settings
        self.db = db
        self.engine = engine
        self.pulls_client_factory = pulls_client_factory
        self.portfolio_refresh_seconds = portfolio_refresh_seconds
        self.synced: str | None = None  # 'guild' / 'global' when this start synced (logs, tests)

    async def setup_hook(self) -> None:
        for name in discover_extensions():
            await self.load_extension(name)
            log.info("loaded extension %s", name)
        await self.sync_commands()
        self._warm_up = asyncio.create_task(self.warm_up_model())
        if health_dir_configured():  # the image sets MATCHER_HEALTH_DIR for its HEALTHCHECK
            self._heartbeat = asyncio.create_task(self.heartbeat())

    async def close(self) -> None:
        heartbeat = getattr(self, "_heartbeat", None)
        if heartbeat is not None:
            heartbeat.cancel()
        await super().close()

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
            if self.is_ready() and not failed:
                # a few bytes to a local file, not the store: cheap enough for the loop itself
                beat("bot", f"{len(self.guilds)} servers")
            else:
                log.warning("no heartbeat: %s", ", ".join(failed) or "gateway not ready")
            await asyncio.sleep(HEARTBEAT_SECONDS)

    async def warm_up_model(self) -> None:
        """Load the embedding model off the event loop at start, so the first /suggest is quick."""
        try:
            model = await asyncio.to_thread(self.engine.warm_up)  # the model and the index
        except MatcherError as error:  # /suggest will report it to the learner who asks
            log.error("embedding model not loaded: %s", error)
        else:
            log.info("embedding model ready (%s)", model.name)

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
        if await run_blocking(remembered, self.db, key) == fingerprint:
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
        await run_blocking(remember, self.db, key, fingerprint)
        self.synced = mode
        log.info("synced %d application commands (%s)", len(synced), mode)
