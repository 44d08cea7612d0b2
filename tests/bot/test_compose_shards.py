"""compose.yaml's bot services: one process by default; the `sharded` profile covers every shard
once, and compose waits longer than the bot's own graceful stop."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.settings import load_bot_settings

COMPOSE = yaml.safe_load((Path(__file__).resolve().parents[2] / "compose.yaml").read_text())


def bot_settings_of(name: str):
    env = COMPOSE["services"][name]["environment"]
    return load_bot_settings(
        **{k.removeprefix("BOT_").lower(): v for k, v in env.items() if k.startswith("BOT_")}
    )


def seconds(text: str) -> float:
    return float(text.removesuffix("s"))


def test_the_default_bot_is_one_unsharded_process():
    assert "profiles" not in COMPOSE["services"]["bot"]
    assert not bot_settings_of("bot").sharded


def test_the_sharded_profile_runs_every_shard_exactly_once():
    services = [n for n, s in COMPOSE["services"].items() if "sharded" in s.get("profiles", [])]
    shards = [bot_settings_of(name) for name in services]
    assert len(services) == 2
    assert {s.shard_count for s in shards} == {2}
    assert sorted(i for s in shards for i in s.shard_ids or []) == [0, 1]
    assert all(s.metrics_port for s in shards)


def test_compose_waits_longer_than_the_graceful_stop():
    for name in ("bot", "bot-shard-0", "bot-shard-1"):
        grace = seconds(COMPOSE["services"][name]["stop_grace_period"])
        assert grace > bot_settings_of(name).stop_grace_seconds
