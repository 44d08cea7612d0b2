"""The documentation's generated parts: the CLI reference and the outputs shown under commands.

`python -m tests.docs_examples` rewrites docs/cli-reference.md from every command's `--help`, and
the output under each checked command block of README.md and docs/*.md from a real run on the
bundled demo (the real model, a throwaway store). tests/test_docs.py fails while either is stale.

A checked block is a `console` block right after the marker line; its first line is the command
(`$ python -m matcher ...`), the rest its stdout. A last line `...` shows only the first lines.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shlex
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
REFERENCE = DOCS / "cli-reference.md"
PROG = "python -m matcher"
WIDTH = 100  # the terminal width of the shown outputs and the reference
MARKER = "<!-- output checked by tests/test_docs.py; regenerate: python -m tests.docs_examples -->"
BLOCK = re.compile(
    re.escape(MARKER) + r"\n```console\n\$ (?P<command>[^\n]+)\n(?P<output>.*?)```", re.S
)
TRUNCATED = "...\n"


# --- the CLI reference --------------------------------------------------------------------------


def command_paths() -> list[tuple[str, ...]]:
    """Every command and group of the CLI, as word paths: (), ("match",), ("db", "upgrade"), ..."""
    return [path for path, _command, _ctx in _walk()]


def leaf_commands() -> list[str]:
    """The runnable commands ("match", "portfolio show"), groups left out."""
    return [" ".join(path) for path, command, _ in _walk() if not hasattr(command, "commands")]


def _walk() -> Iterator[tuple[tuple[str, ...], Any, Any]]:
    """(path, click command, its context) for the root and every command below it, in order."""
    import typer.main

    from matcher.cli import app

    root = typer.main.get_command(app)
    stack = [((), root, _context(root, PROG, None))]
    while stack:
        path, command, ctx = stack.pop(0)
        yield path, command, ctx
        if hasattr(command, "commands"):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                stack.append(((*path, name), sub, _context(sub, name, ctx)))


def _context(command: Any, name: str, parent: Any) -> Any:
    return command.context_class(
        command, parent=parent, info_name=name, terminal_width=WIDTH, max_content_width=WIDTH
    )


def help_text(command: Any, ctx: Any) -> str:
    """`--help` as plain click prints it (the Rich panels would not read as Markdown)."""
    command.rich_markup_mode = None  # a fresh object per get_command: the app is not changed
    return "\n".join(line.rstrip() for line in command.get_help(ctx).splitlines()) + "\n"


def cli_reference() -> str:
    """docs/cli-reference.md: every command's `--help`, in the order of the CLI."""
    parts = [
        "# CLI reference\n",
        "Every command's `--help`, generated from the code by `python -m tests.docs_examples`"
        " (`tests/test_docs.py` fails when it is stale). How the commands fit together:"
        " [Matching from the command line](cli.md).\n",
    ]
    for path, command, ctx in _walk():
        title = " ".join((PROG, *path))
        parts.append(f"## `{title}`\n\n```text\n{help_text(command, ctx)}```\n")
    return "\n".join(parts)


# --- outputs shown under commands ---------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """One checked block: where it is, the command shown and the output shown."""

    file: Path
    command: str
    shown: str

    @property
    def args(self) -> list[str]:
        words = shlex.split(self.command)
        assert words[:3] == PROG.split(), f"{self.file.name}: not a `{PROG}` command"
        return words[3:]

    @property
    def id(self) -> str:
        return f"{self.file.relative_to(ROOT)}: {self.command}"


def doc_files() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.glob("*.md"))]


def examples() -> list[Example]:
    """Every checked block of README.md and docs/*.md."""
    found = []
    for file in doc_files():
        for block in BLOCK.finditer(file.read_text(encoding="utf-8")):
            found.append(Example(file, block["command"], block["output"]))
    return found


def empty_store(path: Path) -> Path:
    """A new empty store at `path` (commands that only read refuse a store that does not exist)."""
    from matcher.store import Database

    Database(f"sqlite:///{path}").engine.dispose()
    return path


def run_cli(args: list[str], store: Path) -> str:
    """stdout of `python -m matcher --db STORE ARGS`, run in this process at the docs' width."""
    from matcher.cli import main

    out, err = io.StringIO(), io.StringIO()
    saved_argv, saved_columns = sys.argv, os.environ.get("COLUMNS")
    sys.argv, os.environ["COLUMNS"] = ["matcher", "--db", str(store), *args], str(WIDTH)
    code: object = 0
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            main()
    except SystemExit as exit_:
        code = exit_.code
    finally:
        sys.argv = saved_argv
        if saved_columns is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved_columns
    assert code in (0, None), f"{args}: exit {code}: {err.getvalue()}"
    return "\n".join(line.rstrip() for line in out.getvalue().splitlines()) + "\n"


def shown_part(example: Example, real: str) -> str:
    """What the block should show of `real`: all of it, or as many lines as it shows now."""
    if not example.shown.endswith(TRUNCATED):
        return real
    kept = example.shown.count("\n") - 1
    return "".join(real.splitlines(keepends=True)[:kept]) + TRUNCATED


# Numbers and relative times change with the date and the last digits of a model's vectors; the
# words, the order of the matches and the layout are what a reader relies on.
_TIME = re.compile(r"\b(\d+|an?) (second|minute|hour|day|week|month|year)s?( ago)?\b")
_NUMBER = re.compile(r"\d+(\.\d+)?")


def normalise(text: str) -> str:
    """The output with relative times and numbers replaced by placeholders."""
    text = _TIME.sub(lambda m: "<time>" + (m[3] or ""), text)
    return _NUMBER.sub("<n>", text)


def write_all() -> None:
    """Regenerate the CLI reference and every checked block (embeds the demo once: a minute)."""
    REFERENCE.write_text(cli_reference(), encoding="utf-8")
    with tempfile.TemporaryDirectory() as tmp:
        store = empty_store(Path(tmp) / "docs.sqlite")
        for file in doc_files():
            text = file.read_text(encoding="utf-8")

            def replace(block: re.Match[str], file: Path = file) -> str:
                example = Example(file, block["command"], block["output"])
                output = shown_part(example, run_cli(example.args, store))
                return f"{MARKER}\n```console\n$ {example.command}\n{output}```"

            file.write_text(BLOCK.sub(replace, text), encoding="utf-8")


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    write_all()
    print(f"wrote {REFERENCE.relative_to(ROOT)} and {len(examples())} checked outputs")
