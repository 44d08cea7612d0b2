"""/profile set and /profile show through discord.py's real app-command machinery."""

import pytest
from simcord import OptionError

from tests.bot.helpers import set_profile


async def test_set_then_show_is_private(world):
    env, guild, channel, admin, alice, bob = world
    result = await set_profile(
        alice, channel, github="alice-gh", digest_day=2, digest_hour=18, timezone="Europe/Berlin"
    )
    assert result.ephemeral
    embed = result.response.embeds[0]
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Skills"] == "python, pytorch, tokenizer"
    # the login lives in the identity table as an unverified link, with a code to prove it
    assert fields["GitHub"] == "alice-gh (not verified yet — /github verify)"
    assert "/github verify" in result.response.content and "alice-gh" in result.response.content
    assert "Wednesdays at 18:00 (Europe/Berlin)" in fields["Weekly digest (off)"]

    shown = await alice.slash(channel, "profile show")
    assert shown.ephemeral
    shown_fields = {f.name: f.value for f in shown.response.embeds[0].fields}
    assert shown_fields["Niche"] == "nlp" and shown_fields["GitHub"] == fields["GitHub"]


async def test_partial_update_keeps_other_fields(world):
    env, guild, channel, admin, alice, bob = world
    await set_profile(alice, channel)
    result = await alice.slash(channel, "profile set", niche="vision")
    fields = {f.name: f.value for f in result.response.embeds[0].fields}
    assert fields["Skills"] == "python, pytorch, tokenizer" and fields["Niche"] == "vision"


async def test_validation_messages_are_clear_and_private(world):
    env, guild, channel, admin, alice, bob = world
    result = await alice.slash(channel, "profile set", niche="nlp")
    assert result.ephemeral and "a new profile needs skills" in result.response.content
    result = await alice.slash(channel, "profile set", skills="python", timezone="Mars/Base")
    assert "unknown time zone 'Mars/Base'" in result.response.content
    result = await alice.slash(channel, "profile set", skills="python", github="not a login!")
    assert "is not a GitHub login" in result.response.content
    result = await alice.slash(channel, "profile set", skills="🚀🔥🤖")
    assert result.ephemeral and "skills needs words" in result.response.content
    # Nothing was stored by the failed attempts.
    shown = await alice.slash(channel, "profile show")
    assert "no profile yet" in shown.response.content


async def test_show_without_profile(world):
    env, guild, channel, admin, alice, bob = world
    result = await bob.slash(channel, "profile show")
    assert result.ephemeral and "/profile set" in result.response.content


async def test_timezone_autocomplete(world):
    env, guild, channel, admin, alice, bob = world
    choices = await alice.autocomplete(channel, "profile set", "timezone", "berl")
    assert [c["value"] for c in choices] == ["Europe/Berlin"]


async def test_user_text_never_pings(world):
    env, guild, channel, admin, alice, bob = world
    result = await set_profile(alice, channel, skills="python @everyone <@&1> pytorch")
    assert result.response.message.mention_everyone is False
    assert not result.response.message.mentions and not result.response.message.role_mentions


async def test_pace_is_set_with_its_choices_and_shown(world):
    env, guild, channel, admin, alice, bob = world
    result = await set_profile(alice, channel, pace="harder")
    fields = {f.name: f.value for f in result.response.embeds[0].fields}
    assert fields["Difficulty"] == (
        "pace harder: aiming at bug fixes (step 2 of 3)\n"
        "no merged pull request or issue under way yet"
    )
    # a later save without the option keeps the pace
    await alice.slash(channel, "profile set", niche="vision")
    shown = await alice.slash(channel, "profile show")
    shown_fields = {f.name: f.value for f in shown.response.embeds[0].fields}
    assert shown_fields["Difficulty"].startswith("pace harder:")
    easier = await alice.slash(channel, "profile set", pace="easier")
    easier_fields = {f.name: f.value for f in easier.response.embeds[0].fields}
    assert easier_fields["Difficulty"].startswith("pace easier: aiming at docs, tests")


async def test_pace_offers_only_its_three_choices(world):
    env, guild, channel, admin, alice, bob = world
    with pytest.raises(OptionError, match=r"only allows \['easier', 'auto', 'harder'\]"):
        await alice.slash(channel, "profile set", skills="python", pace="xtreme")
    shown = await alice.slash(channel, "profile show")
    assert "no profile yet" in shown.response.content  # nothing reached the bot
