"""Match buttons: stored effects, community claims, and persistence across a bot restart."""

from matcher.operations.suggestions import feedback_for, suggestions_for
from tests.bot.conftest import make_bot
from tests.bot.helpers import custom_ids, set_profile


async def _suggest(actor, channel, **options):
    result = await actor.slash(channel, "suggest", **options)
    return result.response.message, [e.url for e in result.response.embeds]


async def test_dismissed_issue_never_comes_back(world):
    env, guild, channel, admin, alice, bob = world
    await set_profile(alice, channel)
    message, urls = await _suggest(alice, channel, count=5)
    click = await alice.click(message, label="Not for me #1")
    assert click.ephemeral and "won't see" in click.response.content
    _, again = await _suggest(alice, channel, count=5)
    assert urls[0] not in again
    assert feedback_for(env.bot.db, str(alice.id), str(guild.id)).dismissed == {urls[0]}


async def test_interested_is_stored_as_liked(world):
    env, guild, channel, admin, alice, bob = world
    await set_profile(alice, channel)
    message, urls = await _suggest(alice, channel)
    click = await alice.click(message, label="Interested #2")
    assert "rank higher" in click.response.content
    status = {s.issue_url: s.status for s in suggestions_for(env.bot.db, str(alice.id))}
    assert status[urls[1]] == "interested"


async def test_claimed_issue_is_not_offered_to_others_in_the_server(world):
    env, guild, channel, admin, alice, bob = world
    await set_profile(alice, channel)
    await set_profile(bob, channel)
    message, urls = await _suggest(alice, channel)
    click = await alice.click(message, label="I'm working on it #1")
    assert "is yours" in click.response.content
    _, for_bob = await _suggest(bob, channel, count=5)
    assert urls[0] not in for_bob
    # Bob cannot double-book it from an older message either.
    other = env.create_guild("Elsewhere")
    bob_elsewhere = other.add_member(bob.user)
    _, elsewhere = await _suggest(bob_elsewhere, other.create_text_channel("general"), count=5)
    assert urls[0] in elsewhere  # another community is not blocked


async def test_second_claim_in_the_same_server_is_refused(world):
    env, guild, channel, admin, alice, bob = world
    await set_profile(alice, channel)
    await set_profile(bob, channel)
    alice_msg, alice_urls = await _suggest(alice, channel)
    bob_msg, bob_urls = await _suggest(bob, channel)
    assert alice_urls[0] == bob_urls[0]  # both were offered it before anyone claimed it
    await alice.click(alice_msg, label="I'm working on it #1")
    refused = await bob.click(bob_msg, label="I'm working on it #1")
    assert "already working on" in refused.response.content
    assert {s.issue_url: s.status for s in suggestions_for(env.bot.db, str(bob.id))}[
        bob_urls[0]
    ] == "suggested"


async def test_buttons_survive_a_restart(world, db_url, bot_settings, settings):
    env, guild, channel, admin, alice, bob = world
    await set_profile(alice, channel)
    message, urls = await _suggest(alice, channel)
    old_bot = env.bot
    await env.restart_bot(make_bot(db_url, bot_settings, settings))
    assert env.bot is not old_bot
    old_bot.db.close()
    click = await alice.click(message, custom_id=custom_ids(message)[1])  # "Not for me #1"
    assert "won't see" in click.response.content
    assert feedback_for(env.bot.db, str(alice.id), str(guild.id)).dismissed == {urls[0]}
    env.bot.db.close()


async def test_unknown_key_gets_a_short_answer(world):
    env, guild, channel, admin, alice, bob = world
    await set_profile(alice, channel)
    message, urls = await _suggest(alice, channel)
    from matcher.store.issue_keys import IssueKeyRow

    with env.bot.db.session() as session:
        session.query(IssueKeyRow).delete()
    click = await alice.click(message, label="Interested #1")
    assert click.ephemeral and "no longer know" in click.response.content
