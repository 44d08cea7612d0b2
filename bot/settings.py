"""Bot settings from BOT_* and DISCORD_* environment variables; the token never has a default."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

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
    log_format: Literal["text", "json"] = Field(
        "text", description="BOT_LOG_FORMAT: text, or json (one object a line, for log shippers)"
    )
    # Answer first, work after: rankings and light store work run on executors of their own.
    ranking_workers: int = Field(2, ge=1, le=32, description="threads ranking (/suggest, digests)")
    ranking_queue: int = Field(
        20, ge=1, le=10_000, description="rankings waiting or running before /suggest says busy"
    )
    store_workers: int = Field(4, ge=1, le=64, description="threads for light store work")
    # Ranking threads hold the interpreter lock in Python code (SQLAlchemy, feedback); the event
    # loop waits for its turn up to this long each time (Python's default 5 ms starves it under
    # a burst: bench/burst_ack.py, docs/operating.md).
    switch_interval_ms: float = Field(
        1.0, gt=0, le=100, description="BOT_SWITCH_INTERVAL_MS: sys.setswitchinterval, in ms"
    )
    # Sharding: BOT_SHARD_COUNT=2 BOT_SHARD_IDS=0 in one process, =1 in another (docs/operating.md).
    shard_count: int | None = Field(None, ge=1, description="BOT_SHARD_COUNT: shards in all")
    shard_ids: Annotated[list[int] | None, NoDecode] = Field(
        None, description="BOT_SHARD_IDS: this process's shards, comma-separated (default all)"
    )
    metrics_port: int | None = Field(
        None, ge=0, le=65535, description="BOT_METRICS_PORT: serve /metrics there (unset: off)"
    )
    metrics_addr: str = Field("0.0.0.0", description="BOT_METRICS_ADDR: the address it listens on")
    stop_grace_seconds: float = Field(
        20, gt=0, description="how long a stop waits for the digest pass in flight"
    )

    @field_validator("shard_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, int):
            return [value]
        return value

    @model_validator(mode="after")
    def _sync_needs_guild(self) -> BotSettings:
        if self.sync_commands is None:
            self.sync_commands = "guild" if self.guild_id else "off"
        if self.sync_commands == "guild" and not self.guild_id:
            raise ValueError("BOT_SYNC_COMMANDS=guild needs BOT_GUILD_ID")
        if self.shard_ids is not None:
            if self.shard_count is None:
                raise ValueError("BOT_SHARD_IDS needs BOT_SHARD_COUNT")
            wrong = [i for i in self.shard_ids if not 0 <= i < self.shard_count]
            if wrong or not self.shard_ids or len(set(self.shard_ids)) != len(self.shard_ids):
                raise ValueError(
                    f"BOT_SHARD_IDS must be distinct numbers from 0 to {self.shard_count - 1}"
                )
        return self

    @property
    def sharded(self) -> bool:
        """Whether this process runs named shards (BOT_SHARD_COUNT set), not one connection."""
        return self.shard_count is not None


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
