"""`digest preview`: what a learner's next weekly digest would hold, ranked now (nothing sent)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from matcher.cli.common import open_store, settings_from
from matcher.errors import ProfileError

if TYPE_CHECKING:
    from matcher.operations.digests import DigestPreview

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
    from matcher.engine import MatchEngine
    from matcher.operations.digests import digest_title, preview_digest
    from matcher.render.console import console
    from matcher.render.terminal import print_matches
    from matcher.store.issues import count_demo_issues

    settings = settings_from(ctx)
    db = open_store(settings)
    try:
        result = preview_digest(
            db, MatchEngine(db, settings), learner_id, now=datetime.now(UTC), top_k=top
        )
        store_has_demo = count_demo_issues(db) > 0
    finally:
        db.close()
    if result is None:
        raise ProfileError(
            f"no learner '{learner_id}' in this store: a learner sets a profile with "
            "/profile set in Discord (check --db)"
        )
    if as_json:
        typer.echo(json.dumps(preview_dict(result, demo=store_has_demo), indent=1))
        return
    schedule = result.learner.schedule.describe()
    state = "on" if result.learner.digest_enabled else "off (/digest on)"
    typer.echo(f"Learner {learner_id}: digest {state}, {schedule}; next at {result.next_at:%c} UTC")
    typer.echo(digest_title(result.week, len(result.matches)))
    print_matches(result.matches, console(), demo=store_has_demo)


def preview_dict(result: DigestPreview, *, demo: bool = False) -> dict:
    """The preview as JSON; "demo": true when the store holds invented demo issues."""
    return {
        "learner_id": result.learner.learner_id,
        "digest_enabled": result.learner.digest_enabled,
        "week": result.week,
        "next_at": result.next_at.isoformat(),
        "matches": [m.to_dict() for m in result.matches],
        "demo": demo,
    }
