"""`python -m bot` with a missing or malformed token: one line on stderr, exit 1, no traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import main

ROOT = Path(__file__).resolve().parents[2]
MISSING = (
    "error: no Discord token: set DISCORD_TOKEN or DISCORD_TOKEN_FILE (see the README, Discord bot)"
)


def run_bot(**env):
    """A real `python -m bot` process (one smoke test; the others call main() in-process)."""
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
        ({}, MISSING),
        (
            {"DISCORD_TOKEN": "s3cret-but-wrong"},
            "error: DISCORD_TOKEN: the Discord token is malformed",
        ),
    ],
)
def test_token_problems_are_one_line(env, expected, monkeypatch, capsys):
    for name in os.environ:
        if name.startswith(("DISCORD_", "BOT_")):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main([]) == 1
    out, err = capsys.readouterr()
    assert err.startswith(expected)
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "s3cret" not in err + out


def test_python_m_bot_without_a_token_is_one_line():
    done = run_bot()
    assert done.returncode == 1
    assert done.stderr.startswith(MISSING)
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
