"""/help: every command with its description, read from the command tree so it never drifts."""

from __future__ import annotations

from discord import app_commands
from discord.ext import commands

from bot.common import Interaction, reply

INTRO = (
    "I match you with beginner-friendly open-source ML issues. Set your profile, ask for matches, "
    "answer with the buttons under each match, and get a weekly digest by DM."
)


def command_lines(tree: app_commands.CommandTree) -> list[str]:
    lines = []
    for command in sorted(tree.walk_commands(), key=lambda c: c.qualified_name):
        if isinstance(command, app_commands.Command):
            admin = " (server admins)" if command.qualified_name.startswith("server ") else ""
            lines.append(f"`/{command.qualified_name}` {command.description}{admin}")
    return lines


class Help(commands.Cog):
    def __init__(self, bot):
        self.bot = bot

    @app_commands.command(name="help", description="What this bot does and every command")
    async def help(self, interaction: Interaction) -> None:
        await reply(interaction, INTRO + "\n\n" + "\n".join(command_lines(self.bot.tree)))


async def setup(bot) -> None:
    await bot.add_cog(Help(bot))
