"""The guard every bot test runs under: a store call from bot code on the event loop fails."""

from bot.workers import Workers
from tests.bot import conftest
from tests.bot.helpers import set_profile


async def test_a_store_call_on_the_loop_is_caught(world, monkeypatch):
    env, guild, channel, admin, alice, bob = world
    await set_profile(alice, channel)
    assert conftest.LOOP_CALLS == []  # the real bot keeps the store off the loop

    async def on_the_loop(self, func, /, *args, **kwargs):  # what Workers.light must never be
        return func(*args, **kwargs)

    monkeypatch.setattr(Workers, "light", on_the_loop)
    result = await alice.slash(channel, "profile show")
    assert result.response.content.startswith("Something went wrong on my side")
    assert len(conftest.LOOP_CALLS) == 1 and "show_profile" in conftest.LOOP_CALLS[0]
    conftest.LOOP_CALLS.clear()  # caught as intended; the autouse check stays for the rest
