"""What an operator sees: JSON log lines without secrets, the store in the health check, and the
sync counters a `sync --every` run exposes."""

from __future__ import annotations

import json
import logging
from types import SimpleNamespace

from prometheus_client import REGISTRY

from bot.common import JsonFormatter, SecretFilter
from matcher import metrics
from matcher.health import store_reachable
from matcher.store import Database

TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GabcDE.abcdefghijklmnopqrstuvwxyz0123"


def test_json_log_lines_carry_the_exception_and_never_the_token():
    record = logging.LogRecord("bot.x", logging.ERROR, __file__, 1, "boom with %s", (TOKEN,), None)
    try:
        raise RuntimeError(f"inner {TOKEN}")
    except RuntimeError:
        import sys

        record.exc_info = sys.exc_info()
    SecretFilter([TOKEN]).filter(record)
    line = JsonFormatter().format(record)
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["logger"] == "bot.x"
    assert entry["message"] == "boom with [redacted]"
    assert "RuntimeError: inner [redacted]" in entry["exception"]
    assert TOKEN not in line and "\n" not in line


def test_the_health_check_sees_whether_the_store_answers(tmp_path):
    db = Database(f"sqlite:///{tmp_path / 'ok.sqlite'}")
    assert store_reachable(db)
    gone = tmp_path / "ok.sqlite"
    db.engine.dispose()
    gone.rename(tmp_path / "elsewhere.sqlite")
    gone.mkdir()  # a directory where the file was: nothing answers
    assert not store_reachable(db)
    db.close()


def test_a_sync_report_moves_the_sync_counters():
    def values() -> list[float]:
        return [
            REGISTRY.get_sample_value("matcher_sync_requests_total", {"api": "graphql"}) or 0.0,
            REGISTRY.get_sample_value("matcher_sync_points_total") or 0.0,
            REGISTRY.get_sample_value("matcher_sync_errors_total", {"kind": "repository"}) or 0.0,
        ]

    report = SimpleNamespace(
        graphql_requests=3, rest_requests=2, graphql_points=7, repos_failed={"a/b": "gone"}
    )
    before = values()
    metrics.record_sync(report)
    assert [b - a for a, b in zip(before, values(), strict=True)] == [3, 7, 1]


async def test_a_digest_pass_moves_the_digest_counters(world):
    from tests.bot.exts.test_digest import HOUR, _learner_with_digest, dms

    env, guild, channel, admin, alice, bob = world

    def counted() -> list[float]:
        return [
            REGISTRY.get_sample_value("matcher_digest_passes_total", {"outcome": "ok"}) or 0.0,
            REGISTRY.get_sample_value("matcher_digests_total", {"outcome": "dm"}) or 0.0,
        ]

    await _learner_with_digest(alice, channel, hour=3)  # `/digest on` at 00:00: first one at 03:00
    before = counted()
    await env.advance_time(4 * HOUR)
    assert len(dms(alice)) == 1
    passes, sent = (b - a for a, b in zip(before, counted(), strict=True))
    assert passes >= 1 and sent == 1
    assert REGISTRY.get_sample_value("matcher_digest_last_pass_timestamp_seconds")
