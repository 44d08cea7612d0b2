"""The weekly digest loop under simcord's moved clock (virtual time starts Thu 2026-01-01 00:00)."""

from datetime import timedelta

import discord

from matcher.operations.digests import deliveries
from matcher.operations.profiles import get_learner
from matcher.operations.suggestions import feedback_for, suggestions_for
from tests.bot.conftest import make_bot
from tests.bot.helpers import custom_ids, set_profile

HOUR = 3600
THURSDAY = 3


def dms(actor):
    return [m for m in actor.user.dm_channel.history() if m.author.bot]


async def _learner_with_digest(actor, channel, hour=3):
    await set_profile(actor, channel, digest_day=THURSDAY, digest_hour=hour, timezone="UTC")
    result = await actor.slash(channel, "digest on")
    assert f"Weekly digest is on: Thursdays at {hour:02d}:00 (UTC)" in result.response.content
    return result


def _close_dms(env, member):
    """Discord refuses every DM to this member, as when they closed their DMs (code 50007)."""
    env.inject_error(
        "POST",
        f"/channels/{member.user.dm_channel.id}/messages",
        status=403,
        code=50007,
        message="Cannot send messages to this user",
        times=None,
    )


async def test_digest_arrives_at_the_chosen_hour_once_per_week(
    world, db_url, bot_settings, settings
):
    env, guild, channel, admin, alice, bob = world
    await _learner_with_digest(alice, channel)
    await env.advance_time(2 * HOUR)
    assert dms(alice) == []
    await env.advance_time(2 * HOUR)  # 04:00: the 03:00 tick has run
    first = dms(alice)
    assert len(first) == 1
    assert first[0].content.startswith("Your weekly matches (2026-W01)")
    assert len(first[0].embeds) == 5 and len(custom_ids(first[0])) == 15
    week1 = {e.url for e in first[0].embeds}

    # A restart mid-week sends no second digest.
    old = env.bot
    await env.restart_bot(make_bot(db_url, bot_settings, settings))
    old.db.close()
    await env.advance_time(30 * HOUR)
    assert len(dms(alice)) == 1

    # Next Thursday brings new matches only: nothing already seen comes back.
    await env.advance_time(6 * 24 * HOUR)
    messages = dms(alice)
    assert len(messages) == 2
    week2 = {e.url for e in messages[1].embeds}
    assert week2 and not (week2 & week1)
    assert [d.week for d in deliveries(env.bot.db, str(alice.id))] == ["2026-W01", "2026-W02"]
    assert all(s.digested_at is not None for s in suggestions_for(env.bot.db, str(alice.id)))
    env.bot.db.close()


async def test_digest_missed_while_down_is_sent_once_on_return(
    world, db_url, bot_settings, settings
):
    env, guild, channel, admin, alice, bob = world
    await _learner_with_digest(alice, channel, hour=3)
    # Stand-in for downtime: a bot whose loop never ticks after start-up, over the Thursday slot.
    sleepy = make_bot(
        db_url, bot_settings.model_copy(update={"digest_check_seconds": 30 * 24 * HOUR}), settings
    )
    old = env.bot
    await env.restart_bot(sleepy)
    old.db.close()
    await env.advance_time(3 * 24 * HOUR)  # Sunday; the slot was missed
    assert dms(alice) == []
    await env.restart_bot(make_bot(db_url, bot_settings, settings))  # back up
    sleepy.db.close()
    assert len(dms(alice)) == 1  # sent by the first tick after start-up
    await env.advance_time(2 * 24 * HOUR)
    assert len(dms(alice)) == 1
    env.bot.db.close()


async def test_closed_dms_fall_back_to_the_server_channel(world):
    env, guild, channel, admin, alice, bob = world
    digests = guild.create_text_channel("digests")
    await admin.slash(channel, "server digest-channel", channel=digests)
    await _learner_with_digest(alice, channel)
    _close_dms(env, alice)
    await env.advance_time(4 * HOUR)
    posted = digests.history()
    assert len(posted) == 1
    assert posted[0].content.startswith(f"<@{alice.id}> your DMs are closed")
    assert [u.id for u in posted[0].mentions] == [alice.id]  # pings the learner only
    assert [d.status for d in deliveries(env.bot.db, str(alice.id))] == ["channel"]


async def test_undeliverable_digest_is_recorded_and_told_next_time(world):
    env, guild, channel, admin, alice, bob = world
    await _learner_with_digest(alice, channel)
    _close_dms(env, alice)
    await env.advance_time(4 * HOUR)
    assert [d.status for d in deliveries(env.bot.db, str(alice.id))] == ["failed"]
    assert get_learner(env.bot.db, str(alice.id)).pending_notice
    # Nothing was shown, so nothing is hidden from /suggest.
    assert not feedback_for(env.bot.db, str(alice.id), str(guild.id)).hidden
    result = await alice.slash(channel, "profile show")
    assert "could not be delivered" in result.response.content
    again = await alice.slash(channel, "profile show")
    assert again.response.content in (None, "")  # told once
    await env.advance_time(24 * HOUR)
    assert len(deliveries(env.bot.db, str(alice.id))) == 1  # no retry storm within the week


async def test_digest_off_stops_it(world):
    env, guild, channel, admin, alice, bob = world
    await _learner_with_digest(alice, channel)
    off = await alice.slash(channel, "digest off")
    assert "off" in off.response.content
    await env.advance_time(5 * HOUR)
    assert dms(alice) == []


async def test_digest_on_needs_a_profile(world):
    env, guild, channel, admin, alice, bob = world
    result = await bob.slash(channel, "digest on")
    assert result.ephemeral and "profile first" in result.response.content


async def test_turning_on_after_this_weeks_slot_sends_the_first_digest_now(world):
    """Turning the digest on after this week's slot used to mean a week without matches."""
    env, guild, channel, admin, alice, bob = world
    await env.advance_time(5 * HOUR)  # Thursday 05:00, after the 03:00 slot
    await set_profile(alice, channel, digest_day=THURSDAY, digest_hour=3, timezone="UTC")
    result = await alice.slash(channel, "digest on")
    next_thursday = "<t:1767841200:F>"  # Thursday 8 January 03:00 UTC
    assert "Your first digest is in your DMs now. Next one: " + next_thursday in (
        result.response.content
    )
    (first,) = dms(alice)
    assert first.content.startswith("Your weekly matches (2026-W01): 5 new issues")
    assert len(custom_ids(first)) == 15
    shown = await alice.slash(channel, "profile show")
    assert next_thursday in shown.response.embeds[0].fields[-1].value
    await env.advance_time(2 * HOUR)  # the loop's passes this week send nothing more
    assert len(dms(alice)) == 1
    await env.advance_time(timedelta(days=7).total_seconds())
    messages = dms(alice)
    assert len(messages) == 2 and messages[1].content.startswith("Your weekly matches (2026-W02)")
    assert not {e.url for e in messages[1].embeds} & {e.url for e in first.embeds}
    assert [(d.week, d.status) for d in deliveries(env.bot.db, str(alice.id))] == [
        ("2026-W01", "dm"),
        ("2026-W02", "dm"),
    ]


async def test_a_first_digest_counts_for_a_slot_later_in_the_same_week(world):
    env, guild, channel, admin, alice, bob = world
    await set_profile(alice, channel, digest_day=5, digest_hour=9, timezone="UTC")  # Saturdays
    result = await alice.slash(channel, "digest on")  # Thursday 1 January, ISO week 2026-W01
    assert "in your DMs now" in result.response.content
    assert len(dms(alice)) == 1
    await env.advance_time(3 * 24 * HOUR)  # past Saturday 3 January 09:00
    assert len(dms(alice)) == 1
    await env.advance_time(7 * 24 * HOUR)  # past Saturday 10 January 09:00
    assert [d.week for d in deliveries(env.bot.db, str(alice.id))] == ["2026-W01", "2026-W02"]
    assert len(dms(alice)) == 2


async def test_a_slot_within_a_day_is_the_first_digest(world):
    env, guild, channel, admin, alice, bob = world
    result = await _learner_with_digest(alice, channel)  # Thursday 00:00, slot at 03:00
    assert "Your first one comes <t:1767236400:R>" in result.response.content
    assert "`/suggest` shows matches right now" in result.response.content
    assert dms(alice) == [] and deliveries(env.bot.db, str(alice.id)) == []


async def test_digest_off_and_on_again_sends_nothing_more_this_week(world):
    env, guild, channel, admin, alice, bob = world
    await env.advance_time(5 * HOUR)
    await _learner_with_digest(alice, channel)
    await alice.slash(channel, "digest off")
    again = await alice.slash(channel, "digest on")
    assert "You had this week's already; next one: <t:1767841200:F>" in again.response.content
    assert len(dms(alice)) == 1


async def test_digest_on_with_nothing_new_says_so_and_keeps_the_schedule(world):
    from matcher.operations.suggestions import record_suggestions
    from tests.bot.fakes import ISSUES

    env, guild, channel, admin, alice, bob = world
    await env.advance_time(5 * HOUR)
    await set_profile(alice, channel, digest_day=THURSDAY, digest_hour=3, timezone="UTC")
    seen = [i.url for i in ISSUES]
    record_suggestions(env.bot.db, str(alice.id), seen, via="suggest", guild_id=str(guild.id))
    result = await alice.slash(channel, "digest on")
    assert "Nothing new fits your profile right now" in result.response.content
    assert dms(alice) == [] and deliveries(env.bot.db, str(alice.id)) == []
    assert get_learner(env.bot.db, str(alice.id)).digest_enabled


async def test_a_first_digest_to_closed_dms_is_told_at_once(world):
    env, guild, channel, admin, alice, bob = world
    await env.advance_time(5 * HOUR)
    await set_profile(alice, channel, digest_day=THURSDAY, digest_hour=3, timezone="UTC")
    _close_dms(env, alice)
    result = await alice.slash(channel, "digest on")
    assert "I could not deliver your first digest" in result.response.content
    assert "could not be delivered: I could not DM you" in result.response.content
    assert [d.status for d in deliveries(env.bot.db, str(alice.id))] == ["failed"]
    await env.advance_time(24 * HOUR)
    assert len(deliveries(env.bot.db, str(alice.id))) == 1


async def test_a_failed_ranking_gives_the_week_back_and_retries(world, monkeypatch):
    """Regression: the weeks were reserved before ranking; a ranking error left them 'sending'
    forever, so every learner in the pass silently lost that week's digest."""
    from sqlalchemy.exc import OperationalError

    env, guild, channel, admin, alice, bob = world
    await _learner_with_digest(alice, channel)
    engine = env.bot.engine
    real = engine.match_many
    calls = []

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT", {}, Exception("database is locked"))
        return real(*args, **kwargs)

    monkeypatch.setattr(engine, "match_many", flaky)
    await env.advance_time(3 * HOUR + 60)  # the 03:00 tick fails
    assert dms(alice) == []
    assert deliveries(env.bot.db, str(alice.id)) == []  # released, not lost
    assert env.bot.get_cog("Digest").last_report.outcomes == {"retry": 1}
    await env.advance_time(HOUR)  # the next tick sends it, once
    assert len(dms(alice)) == 1
    assert [d.status for d in deliveries(env.bot.db, str(alice.id))] == ["dm"]
    await env.advance_time(HOUR)
    assert len(dms(alice)) == 1


async def test_one_learners_unexpected_error_does_not_cost_the_others(world, monkeypatch):
    """Regression: gather() let one learner's unexpected error end the pass (and the loop's
    restart cancelled the other deliveries mid-way)."""
    env, guild, channel, admin, alice, bob = world
    await _learner_with_digest(alice, channel)
    await _learner_with_digest(bob, channel)
    bot = env.bot
    real_get_user = bot.get_user

    def get_user(user_id):
        if user_id == alice.id:
            raise RuntimeError("boom")
        return real_get_user(user_id)

    monkeypatch.setattr(bot, "get_user", get_user)
    await env.advance_time(4 * HOUR)
    assert dms(alice) == [] and len(dms(bob)) == 1
    assert [d.status for d in deliveries(bot.db, str(bob.id))] == ["dm"]
    failed = deliveries(bot.db, str(alice.id))
    assert [(d.status, d.detail) for d in failed] == [("failed", "DM: RuntimeError")]
    assert "could not be delivered" in get_learner(bot.db, str(alice.id)).pending_notice


async def test_one_communitys_failing_batch_does_not_block_the_others(world, monkeypatch):
    """Regression: ranking was one try for every community; a batch that failed (e.g. a focus on
    repositories with no stored issues) cost every learner in every server their digest."""
    env, guild, channel, admin, alice, bob = world
    other = env.create_guild("Vision club")
    other_channel = other.create_text_channel("general")
    other_admin = other.add_member(
        env.create_user("vic"),
        roles=[other.create_role("Admins", permissions=discord.Permissions(manage_guild=True))],
    )
    carol = other.add_member(env.create_user("carol"))
    await other_admin.slash(other_channel, "server focus", repos="nobody/unsynced")
    await _learner_with_digest(alice, channel)
    await _learner_with_digest(carol, other_channel)
    engine = env.bot.engine
    real = engine.match_many

    def match_many(*args, repos=None, **kwargs):
        if repos:
            raise ValueError("empty vocabulary; perhaps the documents only contain stop words")
        return real(*args, repos=repos, **kwargs)

    monkeypatch.setattr(engine, "match_many", match_many)
    await env.advance_time(3 * HOUR + 60)  # the 03:00 tick
    assert len(dms(alice)) == 1  # her community's batch went out
    assert dms(carol) == [] and deliveries(env.bot.db, str(carol.id)) == []  # given back
    assert env.bot.get_cog("Digest").last_report.outcomes == {"dm": 1, "retry": 1}

    def fixed(profiles, *, repos=None, **kwargs):  # what an empty pool should give: no matches
        return {p.id: [] for p in profiles} if repos else real(profiles, repos=repos, **kwargs)

    monkeypatch.setattr(engine, "match_many", fixed)
    await env.advance_time(HOUR)  # retried at the next tick
    assert [d.status for d in deliveries(env.bot.db, str(carol.id))] == ["empty"]
    assert len(dms(alice)) == 1


async def test_a_digest_of_one_says_one_new_issue(world):
    """Regression: '1 new issues that fit your profile'."""
    from matcher.operations.suggestions import record_suggestions
    from tests.bot.fakes import ISSUES

    env, guild, channel, admin, alice, bob = world
    await _learner_with_digest(alice, channel)
    seen = [i.url for i in ISSUES[1:]]
    record_suggestions(env.bot.db, str(alice.id), seen, via="suggest", guild_id=str(guild.id))
    await env.advance_time(4 * HOUR)
    (message,) = dms(alice)
    assert message.content.startswith(
        "Your weekly matches (2026-W01): 1 new issue that fits your profile."
    )
    assert [e.url for e in message.embeds] == [ISSUES[0].url]


async def test_a_crashing_loop_waits_one_interval_before_restarting(world, monkeypatch):
    import asyncio

    bot = world[0].bot
    cog = next(c for c in bot.cogs.values() if hasattr(c, "digest_loop"))
    restarts = []
    monkeypatch.setattr(cog.digest_loop, "restart", lambda: restarts.append(True))
    monkeypatch.setattr(bot.settings, "digest_check_seconds", 0.3)
    task = asyncio.get_running_loop().create_task(cog.on_loop_error(RuntimeError("boom")))
    await asyncio.sleep(0.1)
    assert restarts == []  # still waiting: an error on every pass must not spin
    await task
    assert restarts == [True]
