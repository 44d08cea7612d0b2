"""Run the CLI in-process through `main()`, the same path as `python -m matcher`, without a new
interpreter (no torch import per call)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from matcher.cli import main


@dataclass
class Outcome:
    returncode: int
    stdout: str
    stderr: str


def run_main(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str):
    """`python -m matcher ARGS` in this process: exit code, stdout and stderr."""
    monkeypatch.setattr(sys, "argv", ["matcher", *args])
    capsys.readouterr()  # drop what came before
    try:
        main()
        code = 0
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    out = capsys.readouterr()
    return Outcome(code, out.out, out.err)


def empty_store(path: Path) -> Path:
    """Make an empty store at `path`: commands that only read refuse a --db that does not exist
    (issue 21), so a test of the demo on an empty store makes one first."""
    from matcher.store import Database

    Database(f"sqlite:///{path}").close()
    return path
