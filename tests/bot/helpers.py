"""Small assertions over what the bot sent to the simulated Discord."""

from __future__ import annotations


def callback_types(env) -> list[int]:
    """Interaction callback types the bot posted, in order (4 = message, 5 = deferred, ...)."""
    return [r.json["type"] for r in env.http_requests if r.path.endswith("/callback") and r.json]


def custom_ids(message) -> list[str]:
    """Every custom_id under a simcord ResponseMessage or discord.Message."""
    rows = message.components
    ids = []
    for row in rows:
        children = row.get("components", []) if isinstance(row, dict) else row.children
        for child in children:
            cid = child.get("custom_id") if isinstance(child, dict) else child.custom_id
            if cid:
                ids.append(cid)
    return ids


async def set_profile(actor, channel, **fields):
    fields.setdefault("skills", "python, pytorch, tokenizer")
    fields.setdefault("niche", "nlp")
    result = await actor.slash(channel, "profile set", **fields)
    assert result.response.content.startswith("Profile saved"), result.response.content
    return result
