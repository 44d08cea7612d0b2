"""`portfolio`: link and verify a GitHub login, refresh its merged pull requests, show them."""

from __future__ import annotations

import logging
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from matcher.cli.common import open_store, settings_from
from matcher.errors import MatcherError
from matcher.render.console import console

if TYPE_CHECKING:
    from matcher import portfolio as lib
    from matcher.github.pulls import PullsClient
    from matcher.settings import Settings

log = logging.getLogger(__name__)

portfolio_app = typer.Typer(
    help="Track merged pull requests of verified GitHub logins and render a portfolio.",
    no_args_is_help=True,
)
stdout = console()
stderr = console(stderr=True)


class Format(StrEnum):
    table = "table"
    md = "md"
    html = "html"
    json = "json"


def register(app: typer.Typer) -> None:
    app.add_typer(portfolio_app, name="portfolio")


def _client(settings: Settings) -> PullsClient:
    from matcher.github.pulls import pulls_client

    return pulls_client(settings.github)


@portfolio_app.command("link")
def link(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(help="The GitHub login to link.")],
    learner: Annotated[
        str, typer.Option("--learner", help="The learner's id (their Discord user id).")
    ],
    offline: Annotated[
        bool, typer.Option(help="Do not check on GitHub that the login exists.")
    ] = False,
) -> None:
    """Issue a one-time code and say where to put it to prove the login is yours."""
    from matcher import portfolio as lib

    settings = settings_from(ctx)
    db = open_store(settings, create=True)
    result = lib.link(db, learner, login, None if offline else _client(settings))
    stderr.print(result.instructions, highlight=False)
    stderr.print(f"Then run: python -m matcher portfolio verify {result.login}", highlight=False)
    typer.echo(result.code)


@portfolio_app.command("verify")
def verify(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(help="The GitHub login linked with `portfolio link`.")],
    learner: Annotated[
        str | None, typer.Option("--learner", help="Only this learner's claim.")
    ] = None,
) -> None:
    """Look for the code in the login's bio and public gists; verified logins count as evidence."""
    from matcher import portfolio as lib
    from matcher.store import portfolio as store

    settings = settings_from(ctx)
    db = open_store(settings)
    # each claimant's verified login before, to say which one a successful verification replaces
    before = {
        c.learner_id: store.get_identity(db, c.learner_id)
        for c in store.claims_for_login(db, login)
    }
    identity = lib.verify(db, _client(settings), login, learner)
    previous = before.get(identity.learner_id)
    replaced = (
        f" (replaces {previous.login})"
        if previous is not None
        and previous.verified
        and store.login_key(previous.login) != store.login_key(identity.login)
        else ""
    )
    typer.echo(f"{identity.login} verified for learner {identity.learner_id}{replaced}")


@portfolio_app.command("refresh")
def refresh(
    ctx: typer.Context,
    login: Annotated[
        str, typer.Argument(help="The GitHub login whose merged pull requests to fetch.")
    ],
    full: Annotated[
        bool, typer.Option("--full", help="Ignore the watermark and fetch everything.")
    ] = False,
) -> None:
    """Fetch merged pull requests since the last refresh; store each once."""
    from matcher import portfolio as lib

    settings = settings_from(ctx)
    report = lib.refresh(open_store(settings, create=True), _client(settings), login, full=full)
    for c in report.added:
        stderr.print(f"new: {c.repo}#{c.number} {c.title}", highlight=False, markup=False)
    typer.echo(report.message)


@portfolio_app.command("show")
def show(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(help="The GitHub login.")],
    format: Annotated[
        Format, typer.Option("--format", "-f", help="table, md, html or json.")
    ] = Format.table,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write to this file instead of stdout.")
    ] = None,
    rows: Annotated[
        int,
        typer.Option(
            "--rows", min=0, help="Markdown: list at most this many (0: all), then 'and N more'."
        ),
    ] = 10,
    chart: Annotated[
        Path | None,
        typer.Option(
            "--chart",
            help="Markdown: write the chart to this .png or .svg file (relative to --out's "
            "folder) and show it in the Markdown.",
        ),
    ] = None,
    public: Annotated[
        bool,
        typer.Option(
            "--public",
            help="Only the public part, as any reader would see it (no ramp, next step, "
            "suggestions or funnel). md and html are always public.",
        ),
    ] = False,
) -> None:
    """Render the stored portfolio (no GitHub requests): table, Markdown, HTML page or JSON.

    The table and JSON are your own view unless --public; Markdown and HTML are for publishing
    and carry the public part only.
    """
    from matcher import portfolio as lib

    settings = settings_from(ctx)
    if chart is not None and format is not Format.md:
        raise MatcherError("--chart goes with --format md (the HTML page has its chart inline)")
    if chart is not None and chart.suffix.lower() not in (".png", ".svg"):
        raise MatcherError(f"--chart {chart}: name a .png or .svg file")
    summary = lib.load_summary(open_store(settings), login)
    if public or format in (Format.md, Format.html):
        summary = summary.public()
    if format is Format.table and out is None:
        from matcher.render.terminal import print_portfolio

        print_portfolio(summary, stdout)
        return
    if format is Format.md or format is Format.table:
        from matcher.render.markdown import to_markdown

        link = None
        if chart is not None:
            link = _write_chart(summary, chart, out)
        text = to_markdown(summary, rows=rows, chart=link)
    elif format is Format.html:
        from matcher.render.html import to_html

        text = to_html(summary)
    else:
        from matcher.render.json import to_json

        text = to_json(summary)
    if out is None:
        typer.echo(text, nl=False)
        return
    _write(out, text.encode("utf-8"))


def _write(path: Path, data: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    except OSError as exc:
        raise MatcherError(f"{path}: cannot write ({exc.strerror or exc})") from None
    stderr.print(f"wrote {path} ({len(data):,} bytes)", highlight=False)


def _write_chart(summary: lib.Summary, chart: Path, out: Path | None) -> str:
    """Write the chart beside the Markdown file; return the link the Markdown uses."""
    from matcher.render.chart import chart_image

    target = chart if chart.is_absolute() or out is None else out.parent / chart
    _write(target, chart_image(summary, chart.suffix.lower().lstrip(".")))
    return chart.as_posix()


@portfolio_app.command("funnel")
def funnel(
    ctx: typer.Context,
    learner: Annotated[
        str | None, typer.Option("--learner", help="One learner; everyone if left out.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The suggestion-to-merge funnel: suggested, interested, working on it, merged."""
    import json
    from dataclasses import asdict

    from matcher import portfolio as lib

    f = lib.funnel(open_store(settings_from(ctx)), learner)
    if as_json:
        typer.echo(json.dumps({"counts": asdict(f), "rates": f.rates()}))
        return
    from rich.table import Table

    table = Table("Stage", "Count", "Of suggested")
    for stage, count in asdict(f).items():
        table.add_row(stage, str(count), f"{f.rates()[stage]:.0%}")
    stdout.print(table)
