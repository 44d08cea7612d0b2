"""A loopback fake of Discord for end-to-end smoke tests: REST on aiohttp plus a gateway websocket.

It speaks the real protocol the unmodified bot uses at start-up and to answer interactions:
REST (GET /users/@me, GET /oauth2/applications/@me, GET /gateway[/bot], PUT .../commands,
POST /interactions/{id}/{token}/callback, POST/PATCH /webhooks/{app}/{token}..., and for DMs
GET /users/{id}, POST /users/@me/channels, POST and GET /channels/{id}/messages) and the gateway
(HELLO op 10 -> IDENTIFY op 2 -> READY dispatch, HEARTBEAT op 1 -> ACK op 11, then any dispatch
the test sends, e.g. INTERACTION_CREATE). Point discord.py at it with `fake.patch(monkeypatch)`,
which sets `discord.http.Route.BASE` and `DiscordWebSocket.DEFAULT_GATEWAY`.

Anything the fake does not know answers 404 and is kept in `unknown`, so a test can fail loudly.

Message nonces behave as Discord documents for `enforce_nonce`: "if true and nonce is present, it
will be checked for uniqueness in the past few minutes. If another message was created by the
same author with the same nonce, that message will be returned and no new message will be
created." The window is NONCE_WINDOW seconds of the fake's clock (`advance_clock` moves it).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import yarl
from aiohttp import WSMsgType, web

API = "/api/v10"
APP_ID = 900000000000000001
NONCE_WINDOW = 5 * 60  # "the past few minutes"
BOT_USER = {
    "id": str(APP_ID),
    "username": "matcher",
    "discriminator": "0",
    "global_name": None,
    "avatar": None,
    "bot": True,
    "flags": 0,
}


def _json(data: Any, status: int = 200) -> web.Response:
    # discord.py decodes JSON only when Content-Type is exactly application/json (no charset).
    return web.Response(
        body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"}
    )


def _user(user_id: str) -> dict:
    return {
        "id": str(user_id),
        "username": f"user{str(user_id)[-4:]}",
        "discriminator": "0",
        "global_name": None,
        "avatar": None,
    }


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    json: Any
    authorization: str | None


@dataclass
class FakeDiscord:
    """Start with `await fake.start()`; `await fake.stop()` at the end."""

    host: str = "127.0.0.1"
    requests: list[Request] = field(default_factory=list)
    unknown: list[Request] = field(default_factory=list)
    identify: dict | None = None
    commands: dict[str, list[dict]] = field(
        default_factory=dict
    )  # scope ('global' or guild id) -> commands

    def __post_init__(self) -> None:
        self.messages: dict[str, list[dict]] = {}  # channel id -> messages, oldest first
        self.dm_channels: dict[str, str] = {}  # user id -> DM channel id
        self.refuse_history = False  # GET /channels/{id}/messages answers 403 (no history access)
        self._nonces: dict[tuple[str, str], tuple[float, dict]] = {}
        self._clock_offset = 0.0
        self._ids = itertools.count(1_100_000_000_000_000_000)
        self._sequence = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._ready = asyncio.Event()
        self._new_request = asyncio.Condition()
        self.port = 0
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeDiscord:
        app = web.Application()
        app.router.add_route("GET", "/gateway", self._gateway_ws)
        app.router.add_route("*", API + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        return self

    async def stop(self) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def rest_base(self) -> str:
        return f"http://{self.host}:{self.port}{API}"

    @property
    def gateway_url(self) -> str:
        return f"ws://{self.host}:{self.port}/gateway"

    def patch(self, monkeypatch) -> None:
        """Point discord.py's REST and gateway base URLs here for the rest of the test."""
        import discord.gateway
        import discord.http

        monkeypatch.setattr(discord.http.Route, "BASE", self.rest_base)
        monkeypatch.setattr(
            discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(self.gateway_url)
        )

    def snowflake(self) -> str:
        return str(next(self._ids))

    def advance_clock(self, seconds: float) -> None:
        """Move the fake's clock (only nonce expiry reads it)."""
        self._clock_offset += seconds

    def _now(self) -> float:
        return time.monotonic() + self._clock_offset

    def dms_to(self, user_id: str) -> list[dict]:
        """Messages the bot sent in its DM channel with this user, oldest first."""
        return self.messages.get(self.dm_channels.get(str(user_id), ""), [])

    # ------------------------------------------------------------------ waiting

    async def wait_ready(self, timeout: float = 20) -> None:
        await asyncio.wait_for(self._ready.wait(), timeout)

    async def wait_for_request(self, method: str, path_part: str, timeout: float = 20) -> Request:
        """The first request (past or future) whose path contains `path_part`."""

        def find():
            return next(
                (r for r in self.requests if r.method == method and path_part in r.path), None
            )

        async with self._new_request:
            await asyncio.wait_for(self._new_request.wait_for(lambda: find() is not None), timeout)
        return find()

    # ------------------------------------------------------------------ gateway

    async def dispatch(self, event: str, data: dict) -> None:
        """Send a dispatch (op 0) to every connected bot."""
        payload = {"op": 0, "t": event, "s": next(self._sequence), "d": data}
        for ws in self._sockets:
            await ws.send_str(json.dumps(payload))

    async def _gateway_ws(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(
            json.dumps({"op": 10, "s": None, "t": None, "d": {"heartbeat_interval": 45000}})
        )
        try:
            async for message in ws:
                if message.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(message.data)
                op = frame.get("op")
                if op == 1:  # HEARTBEAT
                    await ws.send_str(json.dumps({"op": 11, "s": None, "t": None, "d": None}))
                elif op == 2:  # IDENTIFY
                    self.identify = frame["d"]
                    await self.dispatch(
                        "READY",
                        {
                            "v": 10,
                            "user": BOT_USER,
                            "guilds": [],
                            "session_id": "fake-session",
                            "resume_gateway_url": self.gateway_url,
                            "application": {"id": str(APP_ID), "flags": 0},
                            "private_channels": [],
                            "relationships": [],
                            # Discord echoes a sharded IDENTIFY's [shard_id, num_shards]
                            **({"shard": frame["d"]["shard"]} if "shard" in frame["d"] else {}),
                        },
                    )
                    self._ready.set()
        finally:
            self._sockets.remove(ws)
        return ws

    # ------------------------------------------------------------------ REST

    def _message(self, channel_id: str, body: dict, *, flags: int = 0) -> dict:
        return {
            "id": self.snowflake(),
            "channel_id": channel_id,
            "author": BOT_USER,
            "type": 0,
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "flags": body.get("flags", flags) or 0,
            "webhook_id": str(APP_ID),
            "application_id": str(APP_ID),
        }

    def _create_message(self, channel_id: str, body: dict) -> dict:
        nonce = body.get("nonce")
        key = (BOT_USER["id"], str(nonce))
        if nonce is not None and body.get("enforce_nonce"):
            seen = self._nonces.get(key)
            if seen is not None and self._now() - seen[0] <= NONCE_WINDOW:
                return seen[1]  # the message created first, and no new one
        message = self._message(channel_id, body)
        message.pop("webhook_id")
        message["nonce"] = nonce
        self.messages.setdefault(channel_id, []).append(message)
        if nonce is not None:
            self._nonces[key] = (self._now(), message)
        return message

    async def _rest(self, request: web.Request) -> web.Response:
        body = None
        if request.can_read_body:
            text = await request.text()
            body = json.loads(text) if text and request.content_type == "application/json" else text
        path = "/" + request.match_info["tail"]
        record = Request(
            request.method, path, dict(request.query), body, request.headers.get("Authorization")
        )
        async with self._new_request:
            self.requests.append(record)
            self._new_request.notify_all()
        parts = path.strip("/").split("/")
        method = request.method

        if method == "GET" and path == "/users/@me":
            return _json(BOT_USER)
        if method == "GET" and path == "/oauth2/applications/@me":
            return _json(
                {
                    "id": str(APP_ID),
                    "name": "matcher",
                    "icon": None,
                    "description": "",
                    "rpc_origins": [],
                    "bot_public": True,
                    "bot_require_code_grant": False,
                    "owner": {**BOT_USER, "bot": False},
                    "verify_key": "0" * 64,
                    "flags": 0,
                    "team": None,
                    "summary": "",
                }
            )
        if method == "GET" and path in ("/gateway", "/gateway/bot"):
            return _json(
                {
                    "url": self.gateway_url,
                    "shards": 1,
                    "session_start_limit": {
                        "total": 1000,
                        "remaining": 999,
                        "reset_after": 0,
                        "max_concurrency": 1,
                    },
                }
            )
        if method == "PUT" and parts[0] == "applications" and parts[-1] == "commands":
            scope = parts[3] if len(parts) == 5 else "global"
            registered = [
                {
                    **cmd,
                    "id": self.snowflake(),
                    "application_id": str(APP_ID),
                    "version": "1",
                    "default_member_permissions": cmd.get("default_member_permissions"),
                    **({"guild_id": scope} if scope != "global" else {}),
                }
                for cmd in body or []
            ]
            self.commands[scope] = registered
            return _json(registered)
        if method == "POST" and parts[0] == "interactions" and parts[-1] == "callback":
            kind = (body or {}).get("type")
            data = (body or {}).get("data") or {}
            return _json(
                {
                    "interaction": {
                        "id": parts[1],
                        "type": 2,
                        "response_message_id": self.snowflake(),
                        "response_message_loading": kind == 5,
                        "response_message_ephemeral": bool(data.get("flags", 0) & 64),
                    },
                }
            )
        if parts[0] == "webhooks" and method in ("POST", "PATCH"):
            return _json(self._message(self.snowflake(), body or {}))
        if method == "GET" and parts[0] == "users" and len(parts) == 2:
            return _json(_user(parts[1]))
        if method == "POST" and path == "/users/@me/channels":
            recipient = str((body or {}).get("recipient_id"))
            channel_id = self.dm_channels.setdefault(recipient, self.snowflake())
            return _json(
                {"id": channel_id, "type": 1, "recipients": [_user(recipient)], "flags": 0}
            )
        if parts[0] == "channels" and len(parts) == 3 and parts[2] == "messages":
            if method == "POST":
                return _json(self._create_message(parts[1], body or {}))
            if method == "GET":
                if self.refuse_history:
                    return _json({"message": "Missing Access", "code": 50001}, status=403)
                limit = int(request.query.get("limit", 50))
                return _json(list(reversed(self.messages.get(parts[1], [])))[:limit])
        self.unknown.append(record)
        return _json(
            {"message": f"fake Discord has no route {method} {path}", "code": 0}, status=404
        )
