"""A burst through the loopback Discord: N /suggest, then (0.3 s later) profile sets and buttons.

Shared by tests/bot/test_burst.py (small N, asserts nothing is lost) and bench/burst_ack.py
(N = 50 and 100, prints acknowledgement percentiles). Every interaction goes through the real
gateway and REST protocol of tests/fakes/discord_gateway.py; the times are the fake's: from the
moment it sends INTERACTION_CREATE to the moment the bot's callback (the acknowledgement) and its
first answer (the webhook POST) reach it.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime

import discord
from aiohttp import web

from tests.fakes.discord_gateway import APP_ID, FakeDiscord

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123"
KINDS = ("suggest", "profile set", "button")
_learner_ids = itertools.count(500_000_000_000_000_000)


class TimedFake(FakeDiscord):
    """The loopback Discord, noting when each request arrived (monotonic seconds) by path."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.arrivals: dict[str, float] = {}

    async def _rest(self, request: web.Request) -> web.Response:
        self.arrivals.setdefault(f"{request.method} {request.path}", time.monotonic())
        return await super()._rest(request)


@dataclass
class Sent:
    """One interaction of the burst."""

    kind: str
    learner: str
    interaction_id: str
    token: str
    sent_at: float = 0.0


@dataclass
class BurstResult:
    sent: list[Sent]
    ack: dict[str, float] = field(default_factory=dict)  # token -> seconds to acknowledge
    answer: dict[str, float] = field(default_factory=dict)  # token -> seconds to first answer
    answers: dict[str, dict] = field(default_factory=dict)  # token -> the answer's JSON body

    def times(self, kind: str, which: str = "ack") -> list[float]:
        source = self.ack if which == "ack" else self.answer
        return sorted(source[s.token] for s in self.sent if s.kind == kind and s.token in source)

    def missing(self) -> list[Sent]:
        """Interactions without an acknowledgement or an answer."""
        return [s for s in self.sent if s.token not in self.ack or s.token not in self.answer]


def new_learner() -> str:
    return str(next(_learner_ids))


def _user(learner: str) -> dict:
    return {
        "id": learner,
        "username": f"u{learner[-6:]}",
        "discriminator": "0",
        "avatar": None,
        "global_name": None,
    }


def _base(fake: FakeDiscord, learner: str, kind: int, token: str, data: dict) -> dict:
    dm = fake.snowflake()
    # a real snowflake of now: the bot's own time-to-acknowledge histogram reads its time
    return {
        "id": str(discord.utils.time_snowflake(datetime.now(UTC))),
        "application_id": str(APP_ID),
        "type": kind,
        "token": token,
        "version": 1,
        "data": data,
        "channel_id": dm,
        "channel": {"id": dm, "type": 1},
        "user": _user(learner),
        "context": 1,
        "app_permissions": "0",
        "locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"1": learner},
        "attachment_size_limit": 10_485_760,
    }


def command_ids(fake: FakeDiscord) -> dict[str, str]:
    return {c["name"]: c["id"] for c in fake.commands["global"]}


def suggest_payload(fake: FakeDiscord, ids: dict[str, str], learner: str, token: str) -> dict:
    data = {"id": ids["suggest"], "name": "suggest", "type": 1}
    return _base(fake, learner, 2, token, data)


def profile_payload(
    fake: FakeDiscord, ids: dict[str, str], learner: str, token: str, skills: str
) -> dict:
    option = {"name": "skills", "type": 3, "value": skills}
    data = {
        "id": ids["profile"],
        "name": "profile",
        "type": 1,
        "options": [{"name": "set", "type": 1, "options": [option]}],
    }
    return _base(fake, learner, 2, token, data)


def button_payload(fake: FakeDiscord, learner: str, token: str, custom_id: str) -> dict:
    button = {"type": 2, "style": 3, "label": "Interested #1", "custom_id": custom_id}
    message = fake._message(fake.snowflake(), {"components": [{"type": 1, "components": [button]}]})
    message["flags"] = 64
    payload = _base(fake, learner, 3, token, {"custom_id": custom_id, "component_type": 2})
    payload["message"] = message
    return payload


async def burst(
    fake: TimedFake,
    suggesters: list[str],
    profile_setters: list[str],
    pressers: list[tuple[str, str]],
    *,
    gap: float = 0.3,
    timeout: float = 300,
) -> BurstResult:
    """Send the burst and wait until every interaction was answered (or `timeout` passed).

    pressers: (learner, custom_id of a button under one of their matches).
    """
    ids = command_ids(fake)
    sent: list[Sent] = []
    payloads: list[dict] = []

    def add(kind: str, learner: str, payload_of) -> None:
        token = f"burst-{len(sent)}-{kind.replace(' ', '-')}"
        payload = payload_of(token)
        sent.append(Sent(kind, learner, payload["id"], token))
        payloads.append(payload)

    for learner in suggesters:
        add("suggest", learner, lambda t, x=learner: suggest_payload(fake, ids, x, t))
    first_wave = len(sent)
    for learner in profile_setters:
        skills = f"rust, {learner[-4:]}"
        add(
            "profile set",
            learner,
            lambda t, x=learner, s=skills: profile_payload(fake, ids, x, t, s),
        )
    for learner, custom_id in pressers:
        add("button", learner, lambda t, x=learner, c=custom_id: button_payload(fake, x, t, c))

    for item, payload in zip(sent[:first_wave], payloads[:first_wave], strict=True):
        item.sent_at = time.monotonic()
        await fake.dispatch("INTERACTION_CREATE", payload)
    await asyncio.sleep(gap)
    for item, payload in zip(sent[first_wave:], payloads[first_wave:], strict=True):
        item.sent_at = time.monotonic()
        await fake.dispatch("INTERACTION_CREATE", payload)

    result = BurstResult(sent)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        collect(fake, result)
        if not result.missing():
            break
        await asyncio.sleep(0.05)
    collect(fake, result)
    return result


def collect(fake: TimedFake, result: BurstResult) -> None:
    """Read acknowledgements and answers off the fake's request log.

    The answer is the first webhook POST after a defer, or the callback itself when the bot
    answered at once (callback type 4).
    """
    bodies = {f"{r.method} /api/v10{r.path}": r.json for r in fake.requests}
    for item in result.sent:
        callback = f"POST /api/v10/interactions/{item.interaction_id}/{item.token}/callback"
        followup = f"POST /api/v10/webhooks/{APP_ID}/{item.token}"
        if callback in fake.arrivals:
            result.ack[item.token] = fake.arrivals[callback] - item.sent_at
            body = bodies.get(callback) or {}
            if body.get("type") == 4 and item.token not in result.answer:
                result.answer[item.token] = result.ack[item.token]
                result.answers[item.token] = body.get("data") or {}
        if followup in fake.arrivals and item.token not in result.answer:
            result.answer[item.token] = fake.arrivals[followup] - item.sent_at
            result.answers[item.token] = bodies.get(followup) or {}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0.0
