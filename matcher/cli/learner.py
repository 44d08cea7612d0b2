"""`learner export|delete`: an operator's copy of a learner's own `/profile export|delete`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from matcher.cli.common import open_store, settings_from
from matcher.errors import ConfigError

learner_app = typer.Typer(
    help="A learner's data: export everything stored about them, or delete it.",
    no_args_is_help=True,
)
LearnerId = Annotated[str, typer.Argument(help="The learner's id (their Discord user id).")]


def register(app: typer.Typer) -> None:
    app.add_typer(learner_app, name="learner")


@learner_app.command("export")
def export(
    ctx: typer.Context,
    learner_id: LearnerId,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the JSON to this file, not stdout.")
    ] = None,
) -> None:
    """Everything stored about a learner, as JSON (what /profile export sends them)."""
    from matcher.operations.privacy import export_learner_json

    text = export_learner_json(open_store(settings_from(ctx), read_only=True), learner_id)
    if out is None:
        typer.echo(text)
        return
    try:
        out.write_text(text + "\n", encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {out}: {exc.strerror or exc}") from None
    typer.echo(f"wrote the export of learner {learner_id} to {out}", err=True)


@learner_app.command("delete")
def delete(
    ctx: typer.Context,
    learner_id: LearnerId,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete every row about a learner in every table (what /profile delete does)."""
    if not yes and not typer.confirm(
        f"Delete everything stored about learner {learner_id}? This cannot be undone", err=True
    ):
        typer.echo("nothing deleted", err=True)
        raise typer.Exit(1)
    from matcher.operations.privacy import delete_learner_data

    report = delete_learner_data(open_store(settings_from(ctx)), learner_id)
    detail = ", ".join(f"{table} {n}" for table, n in report.rows.items())
    typer.echo(
        f"learner {report.learner_id}: deleted {report.total} rows"
        + (f" ({detail})" if detail else "")
    )
