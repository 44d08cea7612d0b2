"""`python -m bot`: run the Discord bot. Configuration problems: one line on stderr, exit 1."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

try:
    import aiohttp
    import discord
except ImportError as missing:  # the [bot] extra: a learner's default install has no bot
    sys.exit(f"error: the Discord bot needs {missing.name}: pip install 'ml-first-issues[bot]'")

from bot.common import install_secret_filter, use_json_logs
from bot.settings import BotSettings, load_bot_settings, load_token
from matcher.errors import MatcherError
from matcher.settings import Settings, load_settings

log = logging.getLogger("bot")

USAGE = """usage: python -m bot [--help]

Run the Discord bot until it is stopped (Ctrl-C). Everything comes from the environment:
  DISCORD_TOKEN or DISCORD_TOKEN_FILE  the bot's token (required; see the README, Discord bot)
  GITHUB_TOKEN or GITHUB_TOKEN_FILE    for /portfolio refreshes (optional)
  BOT_GUILD_ID, BOT_SYNC_COMMANDS      where slash commands are registered (guild, global, off)
  BOT_LOG_LEVEL, BOT_LOG_FORMAT        INFO by default; text, or json (one object a line)
  BOT_SHARD_COUNT, BOT_SHARD_IDS       run shards 0,1 of 2 in this process (default: no sharding)
  BOT_METRICS_PORT                     serve Prometheus metrics at :PORT/metrics (default: off)
  BOT_RANKING_WORKERS, BOT_RANKING_QUEUE, BOT_STORE_WORKERS, BOT_STOP_GRACE_SECONDS
                                       executors and graceful stop (docs/operating.md)
  MATCHER_DATABASE_URL, MATCHER_*      the store, model and ranking, as for `python -m matcher`
"""


def build_bot(bot_settings: BotSettings, settings: Settings, *, embedder=None):
    """The bot with its store and engine; the model loads on first use, not here."""
    from bot.client import bot_class
    from matcher.operations import open_store_or_read_only, ranking_engine

    db, _ = open_store_or_read_only(settings.resolved_database_url)  # read-only: logged there
    # one warm index for the bot's lifetime; new issues are embedded off the request path
    engine = ranking_engine(db, settings, embedder=embedder)
    return bot_class(bot_settings)(settings=bot_settings, db=db, engine=engine)


def stop_on_signals(bot) -> None:
    """SIGTERM (docker compose stop) and SIGINT (Ctrl-C) close the bot gracefully, once."""
    loop = asyncio.get_running_loop()

    def stop(name: str) -> None:
        if not bot.stopping:
            log.info("%s received: stopping gracefully", name)
            asyncio.ensure_future(bot.close())

    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop, sig.name)
        except (NotImplementedError, RuntimeError):  # not the main thread, or Windows
            pass


async def run(token: str, bot_settings: BotSettings, settings: Settings, *, embedder=None) -> None:
    """Start the bot and keep it running until it is closed (by a signal or an error)."""
    bot = build_bot(bot_settings, settings, embedder=embedder)
    async with bot:
        stop_on_signals(bot)
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
    logging.getLogger("alembic").setLevel(logging.WARNING)  # its plugin set-up lines are noise
    if bot_settings.log_format == "json":
        use_json_logs()
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
