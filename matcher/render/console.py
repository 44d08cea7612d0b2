"""Rich consoles for the command line: colours and live bars on a terminal, plain text elsewhere."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from rich.console import Console, RenderableType
from rich.segment import Segment, SegmentLines


def console(*, stderr: bool = False, **options: Any) -> Console:
    """A console on stdout (or stderr) that writes escape codes only when that stream is a TTY;
    `options` go to Rich's Console.

    Rich would also colour a redirected stream when FORCE_COLOR, PY_COLORS or TTY_COMPATIBLE is
    set (CI runners set them): a log file or `> out.txt` must hold the words alone. NO_COLOR
    still turns colours off on a terminal (Rich reads it).
    """
    tty = is_tty(sys.stderr if stderr else sys.stdout)
    return Console(
        stderr=stderr, force_terminal=tty, color_system="auto" if tty else None, **options
    )


def is_tty(stream: TextIO) -> bool:
    """True for a terminal; False for a file, a pipe, or a stream that is closed or swapped out."""
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def trimmed(console: Console, renderable: RenderableType) -> SegmentLines:
    """`renderable` laid out for `console`, without the spaces Rich pads each line with."""
    lines = console.render_lines(renderable, pad=False)
    return SegmentLines([_rstrip(line) for line in lines], new_lines=True)


def _rstrip(line: list[Segment]) -> list[Segment]:
    line = list(line)
    while line and not line[-1].control and not line[-1].text.rstrip():
        line.pop()
    if line and not line[-1].control:
        last = line[-1]
        line[-1] = Segment(last.text.rstrip(), last.style)
    return line
