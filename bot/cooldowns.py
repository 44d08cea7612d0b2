"""Per-user cooldowns on the commands that cost GitHub requests or a ranking (BotSettings)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from discord import app_commands

from bot.common import Interaction


def per_user_cooldown(setting: str) -> Callable[[Any], Any]:
    """discord.py's dynamic cooldown: one use per `BotSettings.<setting>` seconds for each user
    (0 turns it off); answered "try again in N s" by the error handler."""

    def factory(interaction: Interaction) -> app_commands.Cooldown | None:
        seconds = float(getattr(interaction.client.settings, setting))
        return app_commands.Cooldown(1, seconds) if seconds > 0 else None

    def key(interaction: Interaction) -> tuple[int, int]:
        # the buckets live in the decorator (one per process): keep each bot's users apart
        return id(interaction.client), interaction.user.id

    return app_commands.checks.dynamic_cooldown(factory, key=key)
