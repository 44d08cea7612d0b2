"""/suggest and /github verify: a per-user cooldown from BotSettings, answered in one line."""

from __future__ import annotations

import pytest

from bot.exts.error_handler import user_message
from tests.bot.conftest import make_bot
from tests.bot.helpers import set_profile


@pytest.fixture
def simcord_bot(db_url, bot_settings, settings):
    cooled = bot_settings.model_copy(
        update={"suggest_cooldown_seconds": 30, "verify_cooldown_seconds": 90}
    )
    bot = make_bot(db_url, cooled, settings)
    yield bot
    bot.db.close()


async def test_suggest_twice_at_once_says_when_to_try_again(world):
    env, guild, channel, admin, alice, bob = world
    await set_profile(alice, channel)
    await set_profile(bob, channel)
    first = await alice.slash(channel, "suggest")
    assert first.followups or first.response.embeds
    second = await alice.slash(channel, "suggest")
    assert second.ephemeral
    text = second.response.content
    assert text.startswith("You're going too fast: try again in ") and text.endswith(" s.")
    assert 1 <= int(text.split("try again in ")[1].split(" ")[0]) <= 30
    other = await bob.slash(channel, "suggest")  # per user: bob is not slowed by alice
    assert "going too fast" not in (other.response.content or "")
    await env.advance_time(31)
    again = await alice.slash(channel, "suggest")
    assert "going too fast" not in (again.response.content or "")


async def test_github_verify_has_its_own_longer_cooldown(world):
    env, guild, channel, admin, alice, bob = world
    first = await alice.slash(channel, "github verify")
    assert "/github link" in first.response.content  # no link yet: still counts as a use
    second = await alice.slash(channel, "github verify")
    assert "try again in " in second.response.content
    assert int(second.response.content.split("try again in ")[1].split(" ")[0]) > 30


def test_cooldown_seconds_are_rounded_up_never_zero():
    from discord import app_commands

    error = app_commands.CommandOnCooldown(app_commands.Cooldown(1, 10), 0.2)
    assert user_message(error) == ("You're going too fast: try again in 1 s.", False)
