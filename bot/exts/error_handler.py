"""The one error handler: slash commands, prefix commands and views all end up here.

Order: a store that cannot be reached and a full ranking queue (temporary: try again), the user's
own mistakes, then permissions and checks, then cooldowns, then the unexpected, which is logged
with its traceback (never a token: see bot.common.SecretFilter) under a short reference the user
can quote. A store outage is logged once when it starts and once when it ends, not per interaction.
"""

from __future__ import annotations

import errno
import logging
import math
import secrets
import threading

import discord
from discord import app_commands
from discord.ext import commands
from sqlalchemy.exc import DisconnectionError, InterfaceError, OperationalError

from bot.common import UserError, mark_acknowledged, mark_answered
from bot.workers import Busy
from matcher import metrics
from matcher.errors import MatcherError, ModelLoadError, StoreError
from matcher.redact import redact

log = logging.getLogger(__name__)

STORE_UNAVAILABLE = "The store is unavailable right now; try again in a minute."
BUSY = "I'm busy ranking for many people right now; try again in a minute."
# sqlite3 and psycopg raise these when the disk is full, the file read-only or the server gone.
_UNREACHABLE = (OperationalError, InterfaceError, DisconnectionError)
_DISK_ERRNOS = {errno.ENOSPC, errno.EROFS, errno.EDQUOT}


def store_unavailable(error: BaseException) -> str | None:
    """Why the store cannot be used right now (a lost server, a full disk), else None.

    matcher's Database turns an OperationalError into a StoreError `from None`: the original is
    still its __context__, which is where the cause is read.
    """
    seen: BaseException | None = _unwrap(error)
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, _UNREACHABLE):
            return str(getattr(seen, "orig", None) or seen).strip().splitlines()[0][:200]
        if isinstance(seen, OSError) and seen.errno in _DISK_ERRNOS:
            return f"{seen.strerror or seen}"
        seen = seen.__cause__ or seen.__context__
    return None


class StoreOutage:
    """One warning when the store becomes unreachable, one line when it answers again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.down_since_reason: str | None = None

    @property
    def down(self) -> bool:
        return self.down_since_reason is not None

    def failed(self, reason: str) -> None:
        with self._lock:
            if self.down_since_reason is not None:
                return
            self.down_since_reason = reason
        metrics.STORE_UNAVAILABLE.set(1)
        log.warning("the store is unavailable (%s); answering 'try again' until it is back", reason)

    def reachable(self) -> None:
        if self.down_since_reason is None:  # the common case: no lock, no log
            return
        with self._lock:
            if self.down_since_reason is None:
                return
            self.down_since_reason = None
        metrics.STORE_UNAVAILABLE.set(0)
        log.info("the store is reachable again")


def _unwrap(error: BaseException) -> BaseException:
    while isinstance(
        error,
        (app_commands.CommandInvokeError, commands.CommandInvokeError, commands.HybridCommandError),
    ):
        error = error.original
    return error


# Discord's UI names some permissions differently from the API.
PERMISSION_NAMES = {"manage_guild": "Manage Server", "administrator": "Administrator"}


def _permissions(names) -> str:
    return ", ".join(PERMISSION_NAMES.get(p, p.replace("_", " ").title()) for p in names)


def outcome_of(error: BaseException) -> str:
    """The metrics outcome of a failed interaction."""
    if store_unavailable(error):
        return "store_unavailable"
    if isinstance(_unwrap(error), Busy):
        return "busy"
    return "error" if user_message(error)[1] else "user_error"


def user_message(error: BaseException) -> tuple[str, bool]:
    """What to tell the user, and whether the error is unexpected (log it with detail)."""
    if store_unavailable(error):
        return STORE_UNAVAILABLE, False
    error = _unwrap(error)
    if isinstance(error, Busy):
        return BUSY, False
    if isinstance(error, UserError):
        return str(error), False
    if isinstance(error, MatcherError) and not isinstance(error, (StoreError, ModelLoadError)):
        return redact(error), False  # its words may come from GitHub's answer
    if isinstance(error, app_commands.TransformerError):
        return f"'{error.value}' is not a valid {error.type.name.lower()} here.", False
    if isinstance(error, commands.UserInputError):
        return f"That input doesn't fit: {error}", False
    if isinstance(error, (app_commands.NoPrivateMessage, commands.NoPrivateMessage)):
        return "This command works only in a server.", False
    if isinstance(error, (app_commands.MissingPermissions, commands.MissingPermissions)):
        needed = _permissions(error.missing_permissions)
        return f"You need the {needed} permission for this.", False
    if isinstance(error, (app_commands.BotMissingPermissions, commands.BotMissingPermissions)):
        needed = _permissions(error.missing_permissions)
        return f"I need the {needed} permission here to do that.", False
    if isinstance(error, (app_commands.CommandOnCooldown, commands.CommandOnCooldown)):
        return f"You're going too fast: try again in {math.ceil(error.retry_after)} s.", False
    if isinstance(error, (app_commands.CheckFailure, commands.CheckFailure)):
        return "You can't use this command here.", False
    if isinstance(error, discord.Forbidden):
        return "Discord didn't let me do that (a missing permission or closed DMs).", True
    return "Something went wrong on my side; it has been logged.", True


class ErrorHandler(commands.Cog):
    """Installs itself as the app-command tree's error handler (views hand their errors to it)."""

    def __init__(self, bot: commands.Bot):
        self.bot = bot
        self._previous_tree_error = bot.tree.on_error
        self.outage: StoreOutage = getattr(bot, "outage", None) or StoreOutage()

    async def cog_load(self) -> None:
        self.bot.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def cog_unload(self) -> None:
        self.bot.tree.on_error = self._previous_tree_error  # type: ignore[method-assign]

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: BaseException
    ) -> None:
        await self.handle(interaction, error)

    @commands.Cog.listener()
    async def on_command_error(self, ctx: commands.Context, error: commands.CommandError) -> None:
        if isinstance(error, commands.CommandNotFound):
            return
        message, unexpected = user_message(error)
        if unexpected:
            message = message + self._log(error, f"command {ctx.command}", ctx.author.id)
        try:
            await ctx.send(message, allowed_mentions=discord.AllowedMentions.none())
        except discord.HTTPException:
            log.warning("could not report an error to %s", ctx.author.id)

    async def handle(self, interaction: discord.Interaction, error: BaseException) -> None:
        """Tell the user briefly and privately; log the detail of anything unexpected."""
        message, unexpected = user_message(error)
        reason = store_unavailable(error)
        if reason is not None:
            self.outage.failed(reason)
        if unexpected:
            where = (
                interaction.command.qualified_name
                if interaction.command
                else str(dict(interaction.data or {}).get("custom_id", "interaction"))
            )
            message = message + self._log(
                error, f"/{where}" if interaction.command else where, interaction.user.id
            )
        try:
            if interaction.response.is_done():
                await interaction.followup.send(message, ephemeral=True)
            else:
                await interaction.response.send_message(message, ephemeral=True)
                mark_acknowledged(interaction)
            mark_answered(interaction, outcome_of(error))
        except discord.HTTPException:
            log.warning(
                "could not report an error to user %s (interaction expired?)", interaction.user.id
            )

    @staticmethod
    def _log(error: BaseException, where: str, user_id: int) -> str:
        reference = secrets.token_hex(3)
        original = _unwrap(error)
        log.error(
            "error %s in %s for user %s: %s",
            reference,
            where,
            user_id,
            original.__class__.__name__,
            exc_info=(type(original), original, original.__traceback__),
        )
        return f" (reference {reference})"


async def setup(bot: commands.Bot) -> None:
    await bot.add_cog(ErrorHandler(bot))
