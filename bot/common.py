"""Helpers every extension shares: replies carrying pending notices, blocking calls, redaction."""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import discord

from matcher.operations.profiles import pop_notice
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
    """Run blocking library code (every matcher operation: SQL, ranking) off the event loop."""
    return await asyncio.to_thread(functools.partial(func, *args, **kwargs))


def guild_key(interaction: discord.Interaction) -> str | None:
    return str(interaction.guild_id) if interaction.guild_id else None


async def reply(
    interaction: Interaction,
    content: str | None = None,
    *,
    embeds: Sequence[discord.Embed] = (),
    view: discord.ui.View | None = None,
    ephemeral: bool = True,
    notice: bool = True,
) -> None:
    """Answer an interaction whether or not it was deferred, adding the learner's pending notice."""
    if notice:
        pending = await run_blocking(pop_notice, interaction.client.db, str(interaction.user.id))
        if pending:
            content = f"{content}\n\n:warning: {pending}" if content else f":warning: {pending}"
    kwargs: dict[str, Any] = {"content": content, "embeds": list(embeds), "ephemeral": ephemeral}
    if view is not None:
        kwargs["view"] = view
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)


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


def install_secret_filter(secrets: Sequence[str]) -> SecretFilter:
    """Attach the filter to every root handler (handlers see the records of all loggers)."""
    secret_filter = SecretFilter(secrets)
    for handler in logging.getLogger().handlers:
        handler.addFilter(secret_filter)
    return secret_filter
