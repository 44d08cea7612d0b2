"""`python -m matcher`: a thin Typer layer over the library; its errors become one line, exit 1."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler

from matcher.errors import MatcherError
from matcher.redact import RedactingFilter, redact

app = typer.Typer(
    help="Find beginner-friendly ML issues that fit your skills and niche.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    add_completion=False,
)
stderr = Console(stderr=True)

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


@app.callback()
def configure(
    ctx: typer.Context,
    config: Annotated[
        str | None, typer.Option(help="A YAML file overriding config/default.yaml.")
    ] = None,
    db: Annotated[
        str | None, typer.Option(help="SQLAlchemy URL or SQLite file path of the store.")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log details on stderr.")
    ] = False,
) -> None:
    """Options shared by every command."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(message)s",
        force=True,
        handlers=[_log_handler()],
    )
    for noisy in ("httpx", "httpcore", "sentence_transformers", "github"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # urllib3 warns about every retried connection; the outcome is reported once as our own error
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    ctx.obj = {"config": config, "db": db}


def _log_handler() -> logging.Handler:
    """Rich on a terminal; piped, one plain line per message ("warning: ..."), never wrapped."""
    handler: logging.Handler
    if stderr.is_terminal:
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
    from sqlalchemy.exc import SQLAlchemyError

    from matcher.cli.common import store_failure

    try:
        app()  # click itself reports usage errors and handles typer.Exit and Ctrl-C
    except MatcherError as exc:
        typer.echo(f"error: {redact(exc)}", err=True)
        sys.exit(1)
    except SQLAlchemyError as exc:  # "database disk image is malformed" in the middle of a read
        typer.echo(f"error: {redact(store_failure(exc))}", err=True)
        sys.exit(1)
    except BrokenPipeError:  # `export - | head`: the reader left; not an error of ours
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(0)
