"""`python -m matcher`: a thin Typer layer over the library; its errors become one line, exit 1.

Only Typer is imported here and by the command modules at the top: the store, the model and the
ranking are imported inside the command functions, so `--help`, `--version` and shell completion
start in a fraction of a second.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Annotated

import typer

from matcher.errors import MatcherError
from matcher.redact import RedactingFilter, redact
from matcher.render.console import console, is_tty

app = typer.Typer(
    help="Find beginner-friendly ML issues that fit your skills and niche.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
stderr = console(stderr=True)

# Each module adds its commands with register(app); one module per command group.
COMMAND_MODULES = [
    "matcher.cli.match",
    "matcher.cli.snapshot",
    "matcher.cli.sync",
    "matcher.cli.portfolio",
    "matcher.cli.digest",
    "matcher.cli.db",
    "matcher.cli.learner",
]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"ml-first-issues {version('ml-first-issues')}")
        except PackageNotFoundError:  # a checkout that was never installed
            typer.echo("ml-first-issues (not installed: run from a checkout)")
        raise typer.Exit()


@app.callback()
def configure(
    ctx: typer.Context,
    config: Annotated[
        str | None, typer.Option(help="A YAML file overriding config/default.yaml.")
    ] = None,
    db: Annotated[
        str | None,
        typer.Option(
            help="The store: a SQLite file path, sqlite:///PATH or postgresql://USER@HOST/DB. "
            "Commands that only read refuse a file that does not exist."
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log details on stderr.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Options shared by every command."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        force=True,
        handlers=[_log_handler()],
    )
    for noisy in ("httpx", "httpcore", "sentence_transformers", "github", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # urllib3 warns about every retried connection; the outcome is reported once as our own error
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    ctx.obj = {"config": config, "db": db}


def _log_handler() -> logging.Handler:
    """Rich on a terminal; piped, one plain line per message ("warning: ..."), never wrapped."""
    handler: logging.Handler
    if stderr.is_terminal:
        from rich.logging import RichHandler

        handler = RichHandler(console=stderr, show_path=False, show_time=False)
    else:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_PlainFormatter())
    handler.addFilter(RedactingFilter())  # a server's words may carry a token: never print it
    return handler


class _PlainFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = " ".join(super().format(record).split())
        return text if record.levelno < logging.WARNING else f"{record.levelname.lower()}: {text}"


def _register_all() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_all()


def main() -> None:
    """Run the CLI; expected failures print one line on stderr and exit 1, never a traceback."""
    _no_escape_codes_off_a_terminal()
    try:
        app()  # click itself reports usage errors and handles typer.Exit and Ctrl-C
    except MatcherError as exc:
        typer.echo(f"error: {redact(exc)}", err=True)
        sys.exit(1)
    except BrokenPipeError:  # `export - | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
    except Exception as exc:
        message = _store_failure(exc)
        if message is None:
            raise
        typer.echo(f"error: {redact(message)}", err=True)
        sys.exit(1)


def _store_failure(exc: Exception) -> str | None:
    """One line for a database error (a malformed file mid-read); None for anything else.

    SQLAlchemy is only looked at when a command already imported it: `--help` never loads it.
    """
    if "sqlalchemy" not in sys.modules:
        return None
    from sqlalchemy.exc import SQLAlchemyError

    from matcher.cli.common import store_failure

    return store_failure(exc) if isinstance(exc, SQLAlchemyError) else None


def _no_escape_codes_off_a_terminal() -> None:
    """Typer colours its help and usage errors whenever GITHUB_ACTIONS, FORCE_COLOR or PY_COLORS
    is set, even into a file or a pipe: off a terminal, its output is plain text."""
    forced = any(os.environ.get(name) for name in ("GITHUB_ACTIONS", "FORCE_COLOR", "PY_COLORS"))
    if not forced or (is_tty(sys.stdout) and is_tty(sys.stderr)):
        return
    if "typer.rich_utils" in sys.modules:
        sys.modules["typer.rich_utils"].FORCE_TERMINAL = False  # type: ignore[attr-defined]
    else:  # read when Typer first formats help or an error (imported only then)
        os.environ["_TYPER_FORCE_DISABLE_TERMINAL"] = "1"
