"""The answer buttons under every match (interested / not for me / working on it).

They are persistent: the custom_id carries the action and a short issue key, and the state is
rebuilt from the key and the store, so they keep working after a restart. This extension owns
them: it registers them and answers the clicks through matcher.operations.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import discord

from bot.common import Interaction, UserError, ack, guild_key, reply
from matcher.models import Match
from matcher.operations.answers import answer_match_reply
from matcher.operations.suggestions import CLAIM_TTL

if TYPE_CHECKING:
    from bot.client import MatchBot

# action in the custom_id -> (label, style)
ACTIONS: dict[str, tuple[str, discord.ButtonStyle]] = {
    "interested": ("Interested", discord.ButtonStyle.success),
    "dismiss": ("Not for me", discord.ButtonStyle.secondary),
    "working": ("I'm working on it", discord.ButtonStyle.primary),
}
CUSTOM_ID = r"match:(?P<action>interested|dismiss|working):(?P<key>[0-9a-f]{16})"
MAX_ROWS = 5


class MatchButton(discord.ui.DynamicItem[discord.ui.Button], template=CUSTOM_ID):
    """One of the three answers to one suggested issue."""

    def __init__(self, action: str, key: str, *, label: str | None = None, row: int | None = None):
        default_label, style = ACTIONS[action]
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
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> MatchButton:
        return cls(match["action"], match["key"], label=getattr(item, "label", None))

    async def callback(self, interaction: Interaction) -> None:  # type: ignore[override]
        # discord.py only logs errors raised in dynamic items; route them to the tree's handler.
        try:
            await answer_click(interaction, self.action, self.key)
        except Exception as error:  # noqa: BLE001 - handed to the error handler, which logs it
            await interaction.client.tree.on_error(interaction, error)  # type: ignore[arg-type]


def match_view(matches: Sequence[Match], keys: Mapping[str, str]) -> discord.ui.View:
    """A persistent view: one row of buttons per match (at most five), numbered like the embeds.

    keys: issue URL -> the stored button key (the operation that recorded the matches made them).
    """
    view = discord.ui.View(timeout=None)
    for row, match in enumerate(matches[:MAX_ROWS]):
        key = keys[match.issue.url]
        for action, (label, _) in ACTIONS.items():
            view.add_item(MatchButton(action, key, label=f"{label} #{row + 1}", row=row))
    return view


def answer_text(url: str, status: str) -> str:
    return {
        "interested": f"Noted: you're interested in <{url}>. "
        "Similar issues will rank higher for you.",
        "dismissed": f"Got it: you won't see <{url}> again, and similar issues will sink.",
        "working": (
            f"Great, <{url}> is yours: nobody else in this server will be offered it for the next "
            f"{CLAIM_TTL.days} days. Tell the maintainers on GitHub too. "
            'Press "Not for me" to release it.'
        ),
    }[status]


async def answer_click(interaction: Interaction, action: str, key: str) -> None:
    """Acknowledge, store the learner's answer and confirm it privately (one trip to the store)."""
    await ack(interaction)
    answer = await interaction.client.light(
        answer_match_reply,
        interaction.client.db,
        str(interaction.user.id),
        key,
        action,
        guild_id=guild_key(interaction),
        now=discord.utils.utcnow(),
    )
    if answer.issue_url is None:
        raise UserError("I no longer know this suggestion; run /suggest for fresh ones.")
    if answer.holder is not None:
        await reply(
            interaction,
            f"Someone in this server is already working on <{answer.issue_url}>, so it stays "
            "theirs for now. Run /suggest for another one.",
            notice=answer.notice,
        )
        return
    await reply(interaction, answer_text(answer.issue_url, answer.status), notice=answer.notice)


async def setup(bot: MatchBot) -> None:
    bot.add_dynamic_items(MatchButton)


async def teardown(bot: MatchBot) -> None:
    bot.remove_dynamic_items(MatchButton)
