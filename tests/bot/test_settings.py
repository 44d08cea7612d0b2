"""Token and settings loading: one clear line, never the token."""

import pytest

from bot.settings import load_bot_settings, load_token
from matcher.errors import ConfigError

GOOD = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123"


def test_token_from_env_or_file(tmp_path):
    assert load_token({"DISCORD_TOKEN": f"  {GOOD}\n"}).get_secret_value() == GOOD
    assert load_token({"DISCORD_TOKEN": f"Bot {GOOD}"}).get_secret_value() == GOOD
    path = tmp_path / "token"
    path.write_text(GOOD + "\n")
    assert load_token({"DISCORD_TOKEN_FILE": str(path)}).get_secret_value() == GOOD


@pytest.mark.parametrize(
    "environ, message",
    [
        ({}, "no Discord token: set DISCORD_TOKEN or DISCORD_TOKEN_FILE"),
        ({"DISCORD_TOKEN": "   "}, "no Discord token"),
        ({"DISCORD_TOKEN": "hunter2-not-a-token"}, "DISCORD_TOKEN: the Discord token is malformed"),
        ({"DISCORD_TOKEN": GOOD.replace(".", " ", 1)}, "malformed"),
        (
            {"DISCORD_TOKEN_FILE": "/nonexistent/token"},
            "DISCORD_TOKEN_FILE: cannot read /nonexistent/token",
        ),
    ],
)
def test_bad_tokens_are_one_line(environ, message):
    with pytest.raises(ConfigError) as caught:
        load_token(environ)
    text = str(caught.value)
    assert message in text and "\n" not in text
    assert "hunter2" not in text and GOOD not in text


def test_sync_mode_defaults(monkeypatch):
    monkeypatch.delenv("BOT_GUILD_ID", raising=False)
    monkeypatch.delenv("BOT_SYNC_COMMANDS", raising=False)
    assert load_bot_settings().sync_commands == "off"
    monkeypatch.setenv("BOT_GUILD_ID", "123")
    assert load_bot_settings().sync_commands == "guild"
    monkeypatch.setenv("BOT_SYNC_COMMANDS", "global")
    assert load_bot_settings().sync_commands == "global"
    monkeypatch.delenv("BOT_GUILD_ID")
    monkeypatch.setenv("BOT_SYNC_COMMANDS", "guild")
    with pytest.raises(ConfigError, match="BOT_SYNC_COMMANDS=guild needs BOT_GUILD_ID"):
        load_bot_settings()
    monkeypatch.setenv("BOT_SYNC_COMMANDS", "sometimes")
    with pytest.raises(ConfigError, match="^BOT_SYNC_COMMANDS: "):
        load_bot_settings()


def test_shard_and_executor_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("BOT_SHARD_COUNT", "4")
    monkeypatch.setenv("BOT_SHARD_IDS", "2, 3")
    monkeypatch.setenv("BOT_RANKING_QUEUE", "50")
    monkeypatch.setenv("BOT_METRICS_PORT", "9108")
    settings = load_bot_settings()
    assert settings.sharded and settings.shard_count == 4 and settings.shard_ids == [2, 3]
    assert settings.ranking_queue == 50 and settings.metrics_port == 9108
    assert not load_bot_settings(shard_count=None, shard_ids=None).sharded


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"shard_ids": "0"}, "BOT_SHARD_IDS needs BOT_SHARD_COUNT"),
        (
            {"shard_count": 2, "shard_ids": "1,2"},
            "BOT_SHARD_IDS must be distinct numbers from 0 to 1",
        ),
        ({"shard_count": 2, "shard_ids": "1,1"}, "distinct"),
        ({"ranking_queue": 0}, "BOT_RANKING_QUEUE"),
        ({"log_format": "xml"}, "BOT_LOG_FORMAT"),
    ],
)
def test_bad_bot_settings_are_one_line(overrides, message):
    with pytest.raises(ConfigError, match=message):
        load_bot_settings(**overrides)
