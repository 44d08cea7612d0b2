"""/help lists every command, straight from the tree."""


async def test_help_lists_every_command(world):
    env, guild, channel, admin, alice, bob = world
    result = await alice.slash(channel, "help")
    assert result.ephemeral
    text = result.response.content
    for name in (
        "profile set",
        "profile show",
        "suggest",
        "digest on",
        "digest off",
        "help",
        "server digest-channel",
        "server focus",
        "server show",
    ):
        assert f"`/{name}`" in text
    assert (
        "`/server focus` Which repositories or niches this community focuses on (server admins)"
        in text
    )
