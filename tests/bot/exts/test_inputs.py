"""Inputs that always fit: the bot passes text through; the rules answer in one private line."""

from __future__ import annotations

from matcher.operations.communities import update_guild_config
from matcher.operations.profiles import get_learner


async def test_too_many_focus_repositories_are_refused_and_show_still_works(world):
    env, guild, channel, admin, alice, bob = world
    repos = ", ".join(f"org{n}/project-{n}" for n in range(21))
    refused = await admin.slash(channel, "server focus", repos=repos)
    assert refused.ephemeral and "at most 20 entries, got 21" in refused.response.content
    shown = await admin.slash(channel, "server show")
    assert "all repositories" in shown.response.content  # nothing was saved


async def test_settings_saved_before_the_limits_still_answer(world):
    env, guild, channel, admin, alice, bob = world
    legacy = [f"{'o' * 39}/{'r' * 95}{n:05d}" for n in range(50)]
    update_guild_config(env.bot.db, str(guild.id), focus_repos=legacy, focus_niches=["n" * 6000])
    shown = await admin.slash(channel, "server show")
    text = shown.response.content
    assert len(text) <= 2000 and "more" in text
    cleared = await admin.slash(channel, "server focus", repos="-", niches="-")
    assert "Focus repositories: all" in cleared.response.content


async def test_invisible_characters_never_reach_the_profile(world):
    env, guild, channel, admin, alice, bob = world
    saved = await alice.slash(channel, "profile set", skills="py\u200bthon, \u202epandas")
    assert saved.response.content.startswith("Profile saved")
    assert get_learner(env.bot.db, str(alice.id)).skills == "python, pandas"
    refused = await alice.slash(channel, "profile set", niche="nlp\x00")
    assert refused.ephemeral and "niche contains a NUL character" in refused.response.content
