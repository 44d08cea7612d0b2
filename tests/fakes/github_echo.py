"""A misbehaving front of the fake GitHub: every answer echoes the request's Authorization header.

A proxy or an Enterprise gateway can copy the header into its error text; the client must never
pass it on. `echo_authorization(gh, shape)` makes every REST path (and /graphql) answer in one
error shape, its message holding the header and the bare token:

  "401", "403", "404", "422", "500": REST-style {"message": ...} with that status
  "ratelimit": 403 with X-RateLimit-Remaining 0 and a reset an hour ahead
  "graphql": 200 with a GraphQL `errors` array and no data (the query itself failed)
  "graphql-alias": 200 whose repository aliases are null, each with its own error (per repo)

As a pytest plugin (tests/conftest.py) it gives the fixtures `echo_token`, each of ECHO_TOKENS
in turn, and `echo_gh`, a fake GitHub that accepts that token.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.github_server import FakeGitHub, Request, Response

REST_SHAPES = ("401", "403", "404", "422", "500", "ratelimit")
GRAPHQL_SHAPES = ("graphql", "graphql-alias", "401", "403", "422", "ratelimit")
# one shaped like a GitHub token, one that only the configuration says is secret
ECHO_TOKENS = {"shaped": "ghp_" + "Q7w8E9r0" * 4 + "Tt5y", "plain": "corp-gateway-secret-4f9a2c71"}


@pytest.fixture(params=sorted(ECHO_TOKENS))
def echo_token(request) -> str:
    return ECHO_TOKENS[request.param]


@pytest.fixture
def echo_gh(echo_token: str) -> Iterator[FakeGitHub]:
    with FakeGitHub(token=echo_token) as server:
        yield server


def echoed(req: Request) -> str:
    header = req.headers.get("authorization", "")
    token = header.partition(" ")[2]
    return f"denied for Authorization: {header} (token {token}; authorization={header})"


def _answer(shape: str, req: Request) -> Response:
    text = echoed(req)
    if shape == "ratelimit":
        reset = str(int(time.time()) + 3600)
        headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}
        return Response(403, {"message": f"API rate limit exceeded: {text}"}, headers)
    if shape == "graphql":
        return Response(200, {"errors": [{"message": text, "type": "FORBIDDEN"}]})
    if shape == "graphql-alias":
        return Response(200, _alias_errors(req, text))
    return Response(int(shape), {"message": text, "documentation_url": "https://docs.github.com"})


def _alias_errors(req: Request, text: str) -> dict[str, Any]:
    query = str((req.json() or {}).get("query", ""))
    aliases = sorted({f"r{n}" for n in range(50) if f"r{n}: repository(" in query})
    data: dict[str, Any] = {alias: None for alias in aliases}
    data["rateLimit"] = {"cost": 1, "remaining": 4999, "resetAt": "2030-01-01T00:00:00Z"}
    errors = [{"message": text, "path": [alias], "type": "FORBIDDEN"} for alias in aliases]
    return {"data": data, "errors": errors}


def echo_authorization(
    gh: FakeGitHub, shape: str, *, rest: str = r"^/(?!graphql).*$", graphql: bool = True
) -> None:
    """From now on requests to `gh` (REST paths matching `rest`, and /graphql) get the `shape`
    answer quoting their Authorization header."""
    rest_shape = "403" if shape.startswith("graphql") else shape
    gh.add_route("GET", rest, lambda req: _answer(rest_shape, req))
    if graphql:
        gh.add_route("POST", r"^/graphql$", lambda req: _answer(shape, req))
