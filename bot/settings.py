"""Bot settings from BOT_* and DISCORD_* environment variables; the token never has a default."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from matcher.errors import ConfigError

# Three dot-separated base64url parts: user id, timestamp, HMAC.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{18,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$")


class BotSettings(BaseSettings):
    """Every knob of the bot; matcher settings (database, model, ranking) are matcher.settings."""

    model_config = SettingsConfigDict(env_prefix="BOT_", extra="ignore")

    guild_id: int | None = Field(None, description="BOT_GUILD_ID: the guild commands sync to")
    sync_commands: Literal["guild", "global", "off"] | None = Field(
        None,
        description="BOT_SYNC_COMMANDS: guild (default when BOT_GUILD_ID is set), global, or off",
    )
    suggest_count: int = Field(3, ge=1, le=5, description="matches /suggest shows by default")
    digest_count: int = Field(5, ge=1, le=5, description="matches in a weekly digest")
    digest_check_seconds: float = Field(
        300, gt=0, description="how often the digest loop looks for due learners"
    )
    digest_concurrency: int = Field(10, ge=1, le=50, description="digests sent at the same time")
    suggest_cooldown_seconds: float = Field(
        10, ge=0, le=3600, description="BOT_SUGGEST_COOLDOWN_SECONDS: per user, 0 turns it off"
    )
    verify_cooldown_seconds: float = Field(
        60, ge=0, le=3600, description="BOT_VERIFY_COOLDOWN_SECONDS: /github verify, per user"
    )
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _sync_needs_guild(self) -> BotSettings:
        if self.sync_commands is None:
            self.sync_commands = "guild" if self.guild_id else "off"
        if self.sync_commands == "guild" and not self.guild_id:
            raise ValueError("BOT_SYNC_COMMANDS=guild needs BOT_GUILD_ID")
        return self


def load_bot_settings(**overrides) -> BotSettings:
    """BotSettings from the environment; a bad value is one ConfigError line naming the variable."""
    try:
        return BotSettings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = (
            "BOT_" + "_".join(str(p) for p in err["loc"]).upper() if err["loc"] else "bot settings"
        )
        raise ConfigError(f"{name}: {err['msg'].removeprefix('Value error, ')}") from None


def load_token(environ: dict[str, str] | None = None) -> SecretStr:
    """The Discord bot token from DISCORD_TOKEN, or the file named by DISCORD_TOKEN_FILE."""
    env = os.environ if environ is None else environ
    token = env.get("DISCORD_TOKEN", "").strip()
    source = "DISCORD_TOKEN"
    if not token and env.get("DISCORD_TOKEN_FILE"):
        source = "DISCORD_TOKEN_FILE"
        path = Path(env["DISCORD_TOKEN_FILE"])
        try:
            token = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(
                f"DISCORD_TOKEN_FILE: cannot read {path} ({exc.strerror or exc.__class__.__name__})"
            ) from None
    if not token:
        raise ConfigError(
            "no Discord token: set DISCORD_TOKEN or DISCORD_TOKEN_FILE "
            "(see the README, Discord bot)"
        )
    token = token.removeprefix("Bot ").strip()
    if not _TOKEN.match(token):
        # Never echo the value: a malformed token may still be most of a real one.
        raise ConfigError(
            f"{source}: the Discord token is malformed (expected three dot-separated parts, "
            "copied from the Bot page of the developer portal)"
        )
    return SecretStr(token)
