"""/github link, /github verify, /portfolio (embed + chart) and the merge-congratulation loop,
with the real bot under simcord and GitHub faked by the local server with portfolio routes."""

from __future__ import annotations

import pytest

from matcher.store import portfolio as store
from tests.bot.conftest import make_bot
from tests.portfolio.conftest import ADA_ID, fake, gh, make_client, when  # noqa: F401  (fixtures)

HOUR = 3600


@pytest.fixture
def simcord_bot(db_url, bot_settings, settings, gh, fake):  # noqa: F811
    bot = make_bot(
        db_url,
        bot_settings,
        settings,
        pulls_client_factory=lambda: make_client(gh),
        portfolio_refresh_seconds=HOUR,
    )
    yield bot
    bot.db.close()


def bot_dms(actor):
    channel = actor.user.dm_channel
    return [m for m in channel.history() if m.author.bot] if channel else []


async def _link_and_verify(alice, channel, fake):  # noqa: F811
    linked = await alice.slash(channel, "github link", login="ada")
    assert linked.ephemeral
    text = (linked.followups or [linked.response])[-1].content
    code = text.rsplit("`", 2)[-2]
    assert code.startswith("mfi-verify-") and "gist" in text
    fake.set_bio("ada", f"learning ML {code}")
    verified = await alice.slash(channel, "github verify")
    return (verified.followups or [verified.response])[-1].content


async def test_link_verify_then_portfolio_embed_with_chart(world, fake):  # noqa: F811
    env, guild, channel, admin, alice, bob = world
    message = await _link_and_verify(alice, channel, fake)
    assert "Verified: **ada**" in message and "Found 2 merged" in message
    assert store.get_identity(env.bot.db, str(alice.id)).verified

    result = await alice.slash(channel, "portfolio")
    sent = (result.followups or [result.response])[-1]
    embed = sent.embeds[0]
    assert (
        embed.title == "Contributions of @ada" and "**2** merged pull requests" in embed.description
    )
    assert embed.image.url == "attachment://portfolio.png"
    [attachment] = sent.attachments
    assert attachment.filename == "portfolio.png" and attachment.size > 1000
    assert env.backend.cdn.get(attachment.url)[:4] == b"\x89PNG"
    assert (
        "https://github.com/acme/vision/pull/21"
        in {f.name: f.value for f in embed.fields}["Latest"]
    )


async def test_wrong_code_is_refused(world, fake):  # noqa: F811
    env, guild, channel, admin, alice, bob = world
    await alice.slash(channel, "github link", login="ada")
    fake.set_bio("ada", "mfi-verify-aaaaaaaaaaaa")
    result = await alice.slash(channel, "github verify")
    text = (result.followups or [result.response])[-1].content
    assert "not the one issued" in text
    assert not store.get_identity(env.bot.db, str(alice.id)).verified


async def test_portfolio_without_a_login_says_what_to_do(world):
    env, guild, channel, admin, alice, bob = world
    result = await bob.slash(channel, "portfolio")
    assert result.ephemeral and "/github link" in result.response.content


async def test_new_merge_is_congratulated_by_dm_once(world, fake):  # noqa: F811
    env, guild, channel, admin, alice, bob = world
    await _link_and_verify(alice, channel, fake)  # verification records the history: no DM for it
    await env.advance_time(HOUR + 1)
    assert bot_dms(alice) == []

    fake.add_pull("acme/vision", "ada", "Faster resize", merged_at=when(20), number=30)
    await env.advance_time(HOUR + 1)
    dms = bot_dms(alice)
    assert len(dms) == 1
    assert (
        "Congratulations" in dms[0].content
        and "https://github.com/acme/vision/pull/30" in dms[0].content
    )

    await env.advance_time(HOUR + 1)  # nothing new: no second message
    assert len(bot_dms(alice)) == 1


async def test_loop_stops_when_the_extension_unloads(world):
    env = world[0]
    cog = env.bot.get_cog("Portfolio")
    assert cog.refresh_loop.is_running()
    await env.bot.unload_extension("bot.exts.portfolio")
    await env.advance_time(1)
    assert not cog.refresh_loop.is_running()


async def test_relinking_keeps_the_verified_login_until_the_new_one_is_verified(world, fake):  # noqa: F811
    env, guild, channel, admin, alice, bob = world
    await _link_and_verify(alice, channel, fake)
    fake.add_user("ada-new", 6160)
    linked = await alice.slash(channel, "github link", login="ada-new")
    text = (linked.followups or [linked.response])[-1].content
    assert "ada stays linked until ada-new is verified" in text
    code = text.rsplit("`", 2)[-2]
    identity = store.get_identity(env.bot.db, str(alice.id))
    assert identity.verified and identity.login == "ada" and identity.pending_login == "ada-new"

    shown = await alice.slash(channel, "portfolio")
    embed = (shown.followups or [shown.response])[-1].embeds[0]
    assert embed.title == "Contributions of @ada" and "**2** merged" in embed.description
    assert "ada-new" in embed.description and "Unverified" not in embed.description

    fake.set_bio("ada-new", "mfi-verify-aaaaaaaaaaaa")
    refused = await alice.slash(channel, "github verify")
    assert "not the one issued" in (refused.followups or [refused.response])[-1].content
    assert store.get_identity(env.bot.db, str(alice.id)).login == "ada"

    fake.set_bio("ada-new", code)
    verified = await alice.slash(channel, "github verify")
    message = (verified.followups or [verified.response])[-1].content
    assert "Verified: **ada-new**" in message and "replaces **ada**" in message
    identity = store.get_identity(env.bot.db, str(alice.id))
    assert identity.verified and identity.login == "ada-new" and identity.pending_login is None


def _fields(result) -> dict[str, str]:
    return {f.name: f.value for f in result.response.embeds[0].fields}


async def test_a_profile_login_is_proven_with_its_code_and_shown_verified(world, fake):  # noqa: F811
    """/profile set github: links the login as /github link does; /github verify proves it."""
    env, guild, channel, admin, alice, bob = world
    saved = await alice.slash(channel, "profile set", skills="python", github="ada")
    assert _fields(saved)["GitHub"] == "ada (not verified yet — /github verify)"
    code = saved.response.content.rsplit("`", 2)[-2]
    assert code.startswith("mfi-verify-")
    fake.set_bio("ada", f"learning ML {code}")
    verified = await alice.slash(channel, "github verify")
    assert "Verified: **ada**" in (verified.followups or [verified.response])[-1].content
    assert _fields(await alice.slash(channel, "profile show"))["GitHub"] == "ada (verified)"
    again = await alice.slash(channel, "profile set", github="ada")  # same login: nothing to do
    assert "/github verify" not in again.response.content
    assert _fields(again)["GitHub"] == "ada (verified)"


async def test_verify_of_a_login_moved_without_a_code_says_how_to_get_one(world):
    """Revision 0003 moves a profile's login into the identity table without a code."""
    from datetime import UTC, datetime

    env, guild, channel, admin, alice, bob = world
    await alice.slash(channel, "profile set", skills="python")
    with env.bot.db.session() as session:
        session.add(
            store.IdentityRow(
                learner_id=str(alice.id),
                login="ada",
                login_key="ada",
                verified=False,
                created_at=datetime.now(UTC),
            )
        )
    result = await alice.slash(channel, "github verify")
    assert result.ephemeral and "/github link login: ada" in result.response.content
    assert _fields(await alice.slash(channel, "profile show"))["GitHub"] == (
        "ada (not verified yet — /github verify)"
    )


def _embed_text(result) -> str:
    import json

    sent = (result.followups or [result.response])[-1]
    return json.dumps(sent.embeds[0].to_dict(), ensure_ascii=False)


async def test_only_the_learner_in_private_sees_their_private_part(world, fake):  # noqa: F811
    """Alice's own ephemeral /portfolio shows her ramp, next step and the issue suggested to her;
    Bob's `/portfolio login: ada` and Alice's `public: True` show the public part only."""
    from matcher.operations.answers import set_status
    from matcher.operations.suggestions import record_suggestions

    env, guild, channel, admin, alice, bob = world
    db, learner = env.bot.db, str(alice.id)
    closed = "https://github.com/acme/vision/issues/5"  # closed by her merged acme/vision#21
    working = "https://github.com/acme/vision/issues/9"
    record_suggestions(db, learner, [closed], via="suggest", now=when(1))
    record_suggestions(db, learner, [working], via="suggest", now=when(2))
    set_status(db, learner, working, "working", now=when(2))
    await _link_and_verify(alice, channel, fake)  # the refresh links #21 to the suggestion

    own = await alice.slash(channel, "portfolio")
    assert own.ephemeral
    text = _embed_text(own)
    for private in ("**Ramp:**", "**Next step:**", working, "suggested 1 Feb 2026"):
        assert private in text, private

    others = await bob.slash(channel, "portfolio", login="ada")
    posted = await alice.slash(channel, "portfolio", public=True)
    assert not posted.ephemeral
    for result in (others, posted):
        text = _embed_text(result)
        assert "Contributions of @ada" in text and "**2** merged pull requests" in text
        assert "latest merge 10 Feb 2026" in text and "as of " in text and " ago" not in text
        for private in ("Ramp", "Next step", working, "suggested", "/github link"):
            assert private not in text, private
