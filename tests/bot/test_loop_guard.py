"""The guard every bot test runs under: a store call from bot code on the event loop fails."""

import bot.common
from tests.bot import conftest
from tests.bot.helpers import set_profile


async def test_a_store_call_on_the_loop_is_caught(world, monkeypatch):
    env, guild, channel, admin, alice, bob = world
    await set_profile(alice, channel)
    assert conftest.LOOP_CALLS == []  # the real bot keeps the store off the loop

    async def on_the_loop(func, /, *args, **kwargs):  # what run_blocking must never be
        return func(*args, **kwargs)

    monkeypatch.setattr(bot.common, "run_blocking", on_the_loop)
    result = await alice.slash(channel, "profile show")  # reply() reads the pending notice
    assert result.response.content.startswith("Something went wrong on my side")
    assert len(conftest.LOOP_CALLS) == 1 and "pop_notice" in conftest.LOOP_CALLS[0]
    conftest.LOOP_CALLS.clear()  # caught as intended; the autouse check stays for the rest
