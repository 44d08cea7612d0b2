"""`digest preview`: what a learner's next weekly digest would hold, ranked now (nothing sent)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer

from matcher.cli.common import open_store, settings_from
from matcher.cli.match import print_matches
from matcher.engine import MatchEngine
from matcher.errors import ProfileError
from matcher.operations.digests import DigestPreview, digest_title, preview_digest

digest_app = typer.Typer(help="The weekly digest the bot sends.", no_args_is_help=True)
DEFAULT_COUNT = 5


def register(app: typer.Typer) -> None:
    app.add_typer(digest_app, name="digest")


@digest_app.command("preview")
def preview(
    ctx: typer.Context,
    learner_id: Annotated[str, typer.Argument(help="The learner's id (their Discord user id).")],
    top: Annotated[
        int, typer.Option("--top", min=1, max=5, help="How many matches, as the bot sends.")
    ] = DEFAULT_COUNT,
    as_json: Annotated[bool, typer.Option("--json", help="Print only JSON on stdout.")] = False,
) -> None:
    """Show what a learner's next digest would hold if it went out now (nothing is recorded)."""
    settings = settings_from(ctx)
    db = open_store(settings)
    try:
        result = preview_digest(
            db, MatchEngine(db, settings), learner_id, now=datetime.now(UTC), top_k=top
        )
    finally:
        db.close()
    if result is None:
        raise ProfileError(
            f"no learner '{learner_id}' in this store: a learner sets a profile with "
            "/profile set in Discord (check --db)"
        )
    if as_json:
        typer.echo(json.dumps(preview_dict(result), indent=1))
        return
    schedule = result.learner.schedule.describe()
    state = "on" if result.learner.digest_enabled else "off (/digest on)"
    typer.echo(f"Learner {learner_id}: digest {state}, {schedule}; next at {result.next_at:%c} UTC")
    typer.echo(digest_title(result.week, len(result.matches)))
    print_matches(result.matches)


def preview_dict(result: DigestPreview) -> dict:
    return {
        "learner_id": result.learner.learner_id,
        "digest_enabled": result.learner.digest_enabled,
        "week": result.week,
        "next_at": result.next_at.isoformat(),
        "matches": [m.to_dict() for m in result.matches],
    }
