"""`python -m bot`: run the Discord bot. Configuration problems: one line on stderr, exit 1."""

from __future__ import annotations

import asyncio
import logging
import sys

try:
    import aiohttp
    import discord
except ImportError as missing:  # the [bot] extra: a learner's default install has no bot
    sys.exit(f"error: the Discord bot needs {missing.name}: pip install 'ml-first-issues[bot]'")

from bot.common import install_secret_filter
from bot.settings import BotSettings, load_bot_settings, load_token
from matcher.errors import MatcherError
from matcher.settings import Settings, load_settings

log = logging.getLogger("bot")

USAGE = """usage: python -m bot [--help]

Run the Discord bot until it is stopped (Ctrl-C). Everything comes from the environment:
  DISCORD_TOKEN or DISCORD_TOKEN_FILE  the bot's token (required; see the README, Discord bot)
  GITHUB_TOKEN or GITHUB_TOKEN_FILE    for /portfolio refreshes (optional)
  BOT_GUILD_ID, BOT_SYNC_COMMANDS      where slash commands are registered (guild, global, off)
  BOT_LOG_LEVEL                        INFO by default
  MATCHER_DATABASE_URL, MATCHER_*      the store, model and ranking, as for `python -m matcher`
"""


def build_bot(bot_settings: BotSettings, settings: Settings, *, embedder=None):
    """The bot with its store and engine; the model loads on first use, not here."""
    from bot.client import MatchBot
    from matcher.engine import MatchEngine
    from matcher.operations import Database

    db = Database(settings.resolved_database_url)
    # one warm index for the bot's lifetime; new issues are embedded off the request path
    engine = MatchEngine(
        db, settings, embedder=embedder, embed_in_background=True, refresh_seconds=2.0
    )
    return MatchBot(settings=bot_settings, db=db, engine=engine)


async def run(token: str, bot_settings: BotSettings, settings: Settings, *, embedder=None) -> None:
    """Start the bot and keep it running until it is closed."""
    bot = build_bot(bot_settings, settings, embedder=embedder)
    async with bot:
        try:
            await bot.start(token)
        finally:
            bot.db.close()


def quiet_voice_warning() -> None:
    """The bot never joins voice: discord.py's "davey/PyNaCl is not installed" warning is noise."""
    discord.VoiceClient.warn_dave = False
    discord.VoiceClient.warn_nacl = False


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args:
        if args[0] in ("-h", "--help"):
            print(USAGE, end="")
            return 0
        print(f"error: unknown argument {args[0]!r}\n{USAGE}", end="", file=sys.stderr)
        return 2
    quiet_voice_warning()
    try:
        token = load_token()
        bot_settings = load_bot_settings()
        settings = load_settings()
    except MatcherError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    discord.utils.setup_logging(
        level=getattr(logging, bot_settings.log_level.upper(), logging.INFO), root=True
    )
    install_secret_filter([token.get_secret_value()])
    try:
        asyncio.run(run(token.get_secret_value(), bot_settings, settings))
    except discord.LoginFailure:
        print(
            "error: Discord rejected the token (DISCORD_TOKEN): reset it on the Bot page",
            file=sys.stderr,
        )
        return 1
    except discord.PrivilegedIntentsRequired:
        print(
            "error: Discord refused a privileged intent; this bot needs none: check the client",
            file=sys.stderr,
        )
        return 1
    except MatcherError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except (aiohttp.ClientError, OSError) as error:
        print(
            f"error: cannot reach Discord ({error.__class__.__name__}); check the network",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
