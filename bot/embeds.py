"""How matches and profiles look in Discord."""

from __future__ import annotations

import discord

from matcher.models import Identity, Learner, Level, Match
from matcher.operations.levels import level_text
from matcher.operations.profiles import WEEKDAYS

COLOUR = discord.Colour(0x2EA043)


def cut(text: str, limit: int) -> str:
    """The text, shortened with an ellipsis to fit a Discord limit."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def match_embed(match: Match, position: int | None = None) -> discord.Embed:
    """One suggestion: title linking to the issue, repository, score, reasons and labels."""
    issue = match.issue
    prefix = f"#{position} · " if position is not None else ""
    embed = discord.Embed(
        title=cut(f"{prefix}{issue.title}", 256),
        url=issue.url,
        colour=COLOUR,
        description=cut(
            "\n".join(f"• {reason}" for reason in match.reasons) or "Matches your profile.", 1000
        ),
    )
    embed.add_field(
        name="Repository",
        value=cut(f"[{issue.repo}](https://github.com/{issue.repo}) #{issue.number}", 1024),
    )
    embed.add_field(name="Score", value=f"{match.score:.2f}")
    if issue.labels:
        embed.add_field(
            name="Labels",
            value=cut(", ".join(f"`{label}`" for label in issue.labels), 1024),
            inline=False,
        )
    return embed


def match_text(match: Match, position: int) -> str:
    """The plain-text form of a suggestion (logs, docs, and clients without embeds)."""
    issue = match.issue
    lines = [
        f"#{position} {issue.title}",
        f"   {issue.url}",
        f"   {issue.repo} · score {match.score:.2f}",
    ]
    lines += [f"   • {reason}" for reason in match.reasons]
    if issue.labels:
        lines.append("   labels: " + ", ".join(issue.labels))
    return "\n".join(lines)


def github_text(identity: Identity | None) -> str:
    """The learner's linked GitHub login and whether it is proven yet."""
    if identity is None:
        return "—"
    if not identity.verified:
        return f"{identity.login} (not verified yet — /github verify)"
    text = f"{identity.login} (verified)"
    if identity.pending_login:
        text += f"\n{identity.pending_login} (not verified yet — /github verify)"
    return text


def profile_embed(
    learner: Learner,
    *,
    identity: Identity | None = None,
    next_digest: str | None = None,
    level: Level | None = None,
) -> discord.Embed:
    """The learner's profile; `identity` is their GitHub link from the identity table, `level`
    where they stand on the difficulty ramp."""
    embed = discord.Embed(title="Your matcher profile", colour=COLOUR)
    embed.add_field(name="Skills", value=cut(learner.skills or "—", 1024), inline=False)
    embed.add_field(name="Niche", value=cut(learner.niche or "—", 1024))
    embed.add_field(name="Languages", value=cut(learner.languages or "—", 1024))
    embed.add_field(name="GitHub", value=github_text(identity))
    if level is not None:
        embed.add_field(name="Difficulty", value=cut(level_text(level), 1024), inline=False)
    digest = (
        f"{WEEKDAYS[learner.digest_weekday]}s at {learner.digest_hour:02d}:00 ({learner.timezone})"
    )
    state = "on" if learner.digest_enabled else "off"
    embed.add_field(
        name=f"Weekly digest ({state})",
        value=digest + (f"\nnext: {next_digest}" if next_digest else ""),
        inline=False,
    )
    return embed
