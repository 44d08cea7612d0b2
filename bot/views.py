"""The buttons under each match. They are persistent: the custom_id carries the action and a
short issue key, and the state is rebuilt from the key and the store, so they keep working after
a restart."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

import discord

from bot.common import UserError, guild_key, reply
from matcher.models import Match
from matcher.store.learners import (
    CLAIM_TTL,
    get_learner,
    register_issue_keys,
    set_home_guild,
    set_status,
    url_for_key,
)

if TYPE_CHECKING:
    from bot.client import MatchBot

log = logging.getLogger(__name__)

# action in the custom_id -> (label, style, stored status)
ACTIONS: dict[str, tuple[str, discord.ButtonStyle, str]] = {
    "interested": ("Interested", discord.ButtonStyle.success, "interested"),
    "dismiss": ("Not for me", discord.ButtonStyle.secondary, "dismissed"),
    "working": ("I'm working on it", discord.ButtonStyle.primary, "working"),
}
CUSTOM_ID = r"match:(?P<action>interested|dismiss|working):(?P<key>[0-9a-f]{16})"


class MatchButton(discord.ui.DynamicItem[discord.ui.Button], template=CUSTOM_ID):
    """One of the three answers to one suggested issue."""

    def __init__(self, action: str, key: str, *, label: str | None = None, row: int | None = None):
        default_label, style, _ = ACTIONS[action]
        super().__init__(
            discord.ui.Button(
                label=label or default_label, style=style, custom_id=f"match:{action}:{key}"
            ),
            row=row,
        )
        self.action = action
        self.key = key

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Button, match: re.Match[str]
    ):
        return cls(match["action"], match["key"], label=item.label)

    async def callback(self, interaction: discord.Interaction) -> None:
        # discord.py only logs errors raised in dynamic items; route them to the one error handler.
        try:
            await answer_click(interaction, self.action, self.key)
        except Exception as error:  # noqa: BLE001 - handed to the error handler, which logs it
            await interaction.client.report_error(interaction, error)  # type: ignore[attr-defined]


async def answer_click(interaction: discord.Interaction, action: str, key: str) -> None:
    """Store the learner's answer and confirm it privately."""
    bot: MatchBot = interaction.client  # type: ignore[assignment]
    url = url_for_key(bot.db, key)
    if url is None:
        raise UserError("I no longer know this suggestion; run /suggest for fresh ones.")
    learner_id = str(interaction.user.id)
    guild_id = guild_key(interaction)
    if guild_id is None:
        learner = get_learner(bot.db, learner_id)
        guild_id = learner.home_guild_id if learner else None
    else:
        set_home_guild(bot.db, learner_id, guild_id)
    status = ACTIONS[action][2]
    holder = set_status(
        bot.db, learner_id, url, status, guild_id=guild_id, now=discord.utils.utcnow()
    )
    if holder is not None:
        await reply(
            interaction,
            f"Someone in this server is already working on <{url}>, so it stays theirs "
            "for now. Run /suggest for another one.",
        )
        return
    messages = {
        "interested": f"Noted: you're interested in <{url}>. "
        "Similar issues will rank higher for you.",
        "dismissed": f"Got it: you won't see <{url}> again, and similar issues will sink.",
        "working": (
            f"Great, <{url}> is yours: nobody else in this server will be offered it for the next "
            f"{CLAIM_TTL.days} days. Tell the maintainers on GitHub too. "
            'Press "Not for me" to release it.'
        ),
    }
    await reply(interaction, messages[status])


def match_view(matches: Sequence[Match], db) -> discord.ui.View:
    """A persistent view: one row of buttons per match (at most five), numbered like the embeds."""
    keys = register_issue_keys(db, [m.issue.url for m in matches[:5]])
    view = discord.ui.View(timeout=None)
    for row, match in enumerate(matches[:5]):
        key = keys[match.issue.url]
        for action, (label, _, _) in ACTIONS.items():
            view.add_item(MatchButton(action, key, label=f"{label} #{row + 1}", row=row))
    return view
