"""Helpers every extension shares: acknowledge first, answer with the pending notice, redaction."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import re
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from matcher import metrics
from matcher.redact import RedactingFilter

if TYPE_CHECKING:
    from bot.client import MatchBot

    Interaction = discord.Interaction[MatchBot]
else:
    Interaction = discord.Interaction

log = logging.getLogger(__name__)
T = TypeVar("T")


class UserError(Exception):
    """A mistake the user can fix; its message is shown to them as it is."""


async def run_blocking(func: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run blocking library code off the event loop on asyncio's default executor.

    Interactions use the bot's own executors instead (bot.light, bot.ranking: bot/workers.py).
    """
    return await asyncio.to_thread(functools.partial(func, *args, **kwargs))


def guild_key(interaction: discord.Interaction) -> str | None:
    return str(interaction.guild_id) if interaction.guild_id else None


def command_name(interaction: discord.Interaction) -> str:
    """The command's name (`profile set`), or a button's action (`button:interested`)."""
    if interaction.command is not None:
        return interaction.command.qualified_name
    custom_id = str(dict(interaction.data or {}).get("custom_id", ""))
    parts = custom_id.split(":")
    return f"button:{parts[1]}" if len(parts) > 2 else "component"


def age_seconds(interaction: discord.Interaction) -> float:
    """Seconds since Discord created the interaction (its snowflake's time)."""
    return (datetime.now(UTC) - interaction.created_at).total_seconds()


def mark_acknowledged(interaction: discord.Interaction) -> None:
    """Record the time to acknowledge, once per interaction."""
    if not interaction.extras.get("acknowledged"):
        interaction.extras["acknowledged"] = True
        metrics.acknowledged(command_name(interaction), age_seconds(interaction))


def mark_answered(interaction: discord.Interaction, outcome: str) -> None:
    """Record the answer (outcome and time to answer), once per interaction."""
    if not interaction.extras.get("answered"):
        interaction.extras["answered"] = True
        name = command_name(interaction)
        metrics.interaction(name, outcome)
        metrics.answered(name, age_seconds(interaction))


async def ack(interaction: Interaction, *, ephemeral: bool = True) -> None:
    """Acknowledge at once (Discord shows "thinking..."), before any store call or ranking."""
    if not interaction.response.is_done():
        await interaction.response.defer(ephemeral=ephemeral, thinking=True)
    mark_acknowledged(interaction)


def with_notice(content: str | None, notice: str | None) -> str | None:
    """The answer with the learner's pending notice (an undelivered digest, ...) below it."""
    if not notice:
        return content
    return f"{content}\n\n:warning: {notice}" if content else f":warning: {notice}"


async def reply(
    interaction: Interaction,
    content: str | None = None,
    *,
    embeds: Sequence[discord.Embed] = (),
    view: discord.ui.View | None = None,
    ephemeral: bool = True,
    notice: str | None = None,
) -> None:
    """Answer an interaction whether or not it was deferred; `notice`: the learner's pending
    notice, read by the same operation that did the work (no extra trip to the store)."""
    kwargs: dict[str, Any] = {
        "content": with_notice(content, notice),
        "embeds": list(embeds),
        "ephemeral": ephemeral,
    }
    if view is not None:
        kwargs["view"] = view
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)
        mark_acknowledged(interaction)
    mark_answered(interaction, "ok")


class SecretFilter(RedactingFilter):
    """matcher.redact on every log record, plus Discord interaction tokens (valid 15 minutes) in
    gateway payloads and webhook/callback URLs (DEBUG)."""

    _INTERACTION = re.compile(
        r"""(['"]token['"]\s*:\s*['"])[^'"]+|(/(?:webhooks|interactions)/\d+/)[\w.-]+"""
    )

    def __init__(self, secrets: Sequence[str] = ()):
        super().__init__(secrets)

    def clean(self, text: str) -> str:
        text = super().clean(text)
        return self._INTERACTION.sub(lambda m: (m.group(1) or m.group(2)) + "[redacted]", text)


class JsonFormatter(logging.Formatter):
    """One JSON object a line (BOT_LOG_FORMAT=json): time, level, logger, message, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)


def use_json_logs() -> None:
    """Every root handler writes JSON lines (the secret filter still runs first)."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(JsonFormatter())


def install_secret_filter(secrets: Sequence[str]) -> SecretFilter:
    """Attach the filter to every root handler (handlers see the records of all loggers)."""
    secret_filter = SecretFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(secret_filter)
    return secret_filter
