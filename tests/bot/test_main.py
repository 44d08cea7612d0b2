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


def test_help_prints_usage_without_a_token():
    done = subprocess.run(
        [sys.executable, "-m", "bot", "--help"],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "BOT_"))},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stdout.startswith("usage: python -m bot")
    assert "DISCORD_TOKEN" in done.stdout and not done.stderr


def test_unknown_arguments_are_refused():
    done = run_bot()
    assert done.returncode == 1  # no token: the environment is read, not the arguments
    other = subprocess.run(
        [sys.executable, "-m", "bot", "--frobnicate"], cwd=ROOT, capture_output=True, text=True
    )
    assert other.returncode == 2 and "unknown argument '--frobnicate'" in other.stderr


VOICE_PROBE = """
import logging, sys
logging.basicConfig(stream=sys.stderr)
import discord
from bot.__main__ import quiet_voice_warning
if sys.argv[1] == "quiet":
    quiet_voice_warning()
discord.Client(intents=discord.Intents.none())
"""


@pytest.mark.parametrize("mode", ["quiet", "loud"])
def test_no_voice_warning_from_discord_py(mode):
    """The bot never joins voice; discord.py's "davey is not installed" warning is noise."""
    done = subprocess.run(
        [sys.executable, "-c", VOICE_PROBE, mode], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert ("voice will NOT be supported" in done.stderr) is (mode == "loud")
