"""/suggest: deferred, private, ranked by the real engine, recorded in the store."""

from bot.client import MatchBot
from matcher.operations.suggestions import suggestions_for
from tests.bot.helpers import callback_types, custom_ids, set_profile


async def test_suggest_defers_then_answers_privately(world):
    env, guild, channel, admin, alice, bob = world
    await set_profile(alice, channel)
    bot: MatchBot = env.bot
    seen_before_ranking = []
    real_match = bot.engine.match

    def watching_match(*args, **kwargs):
        seen_before_ranking.extend(callback_types(env))
        return real_match(*args, **kwargs)

    bot.engine.match = watching_match
    result = await alice.slash(channel, "suggest")

    assert seen_before_ranking[-1] == 5  # acknowledged (deferred) before the slow part started
    assert result.ephemeral
    embeds = result.response.embeds
    assert len(embeds) == 3
    assert embeds[0].url.startswith("https://github.com/huggingface/")
    assert "tokenizer" in embeds[0].title.lower()
    assert any(f.name == "Score" for f in embeds[0].fields)
    assert embeds[0].description.startswith("•")  # the engine's reasons
    ids = custom_ids(result.response)
    assert len(ids) == 9 and all(len(i) <= 100 for i in ids)
    assert {i.split(":")[1] for i in ids} == {"interested", "dismiss", "working"}
    stored = suggestions_for(bot.db, str(alice.id))
    assert [s.issue_url for s in stored] == [e.url for e in embeds]
    assert all(s.via == "suggest" and s.status == "suggested" for s in stored)


async def test_suggest_count_and_no_profile(world):
    env, guild, channel, admin, alice, bob = world
    result = await bob.slash(channel, "suggest")
    assert result.ephemeral and "/profile set" in result.response.content
    await set_profile(bob, channel)
    result = await bob.slash(channel, "suggest", count=1)
    assert len(result.response.embeds) == 1


async def test_suggest_respects_server_focus(world):
    env, guild, channel, admin, alice, bob = world
    await set_profile(alice, channel)
    await admin.slash(channel, "server focus", repos="pytorch/vision")
    result = await alice.slash(channel, "suggest")
    assert {e.url.split("/issues")[0] for e in result.response.embeds} == {
        "https://github.com/pytorch/vision"
    }
