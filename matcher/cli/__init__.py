"""`python -m matcher`: a thin Typer layer over the library; its errors become one line, exit 1."""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.logging import RichHandler
from sqlalchemy.exc import SQLAlchemyError

from matcher.errors import MatcherError
from matcher.store.db import db_error_reason

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
    "matcher.cli.db",
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
        handlers=[RichHandler(console=stderr, show_path=False, show_time=False)],
    )
    for noisy in ("httpx", "httpcore", "sentence_transformers", "github"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # urllib3 warns about every retried connection; the outcome is reported once as our own error
    logging.getLogger("urllib3").setLevel(logging.ERROR)
    ctx.obj = {"config": config, "db": db}


def _register_all() -> None:
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(app)


_register_all()


def main() -> None:
    """Run the CLI; expected failures print one line on stderr and exit 1, never a traceback."""
    try:
        app()  # click itself reports usage errors and handles typer.Exit and Ctrl-C
    except MatcherError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except SQLAlchemyError as exc:  # one the store did not translate: still one line, no traceback
        typer.echo(f"error: the store failed: {db_error_reason(exc)}", err=True)
        sys.exit(1)
