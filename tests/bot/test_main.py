"""`python -m bot` with a missing or malformed token: one line on stderr, exit 1, no traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_bot(**env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_"))}
    clean.update(env)
    return subprocess.run(
        [sys.executable, "-m", "bot"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "env, expected",
    [
        (
            {},
            "error: no Discord token: set DISCORD_TOKEN or DISCORD_TOKEN_FILE "
            "(see the README, Discord bot)",
        ),
        (
            {"DISCORD_TOKEN": "s3cret-but-wrong"},
            "error: DISCORD_TOKEN: the Discord token is malformed",
        ),
    ],
)
def test_token_problems_are_one_line(env, expected):
    done = run_bot(**env)
    assert done.returncode == 1
    assert done.stderr.startswith(expected)
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert "s3cret" not in done.stderr + done.stdout
