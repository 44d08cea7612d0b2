"""The docs say what the code does: generated parts are current, shown outputs are real, every
command is documented, every path named exists, and the README stays a five-minute read."""

from __future__ import annotations

import re
import shlex

import pytest

from tests import docs_examples
from tests.docs_examples import DOCS, REFERENCE, ROOT, Example

README = ROOT / "README.md"
REGENERATE = "stale: run `python -m tests.docs_examples`"


def test_the_cli_reference_is_generated_from_the_current_cli():
    assert REFERENCE.read_text(encoding="utf-8") == docs_examples.cli_reference(), REGENERATE


def test_every_command_has_help_and_is_documented_by_hand():
    written = "\n".join(
        path.read_text(encoding="utf-8") for path in docs_examples.doc_files() if path != REFERENCE
    )
    for command in docs_examples.leaf_commands():
        assert f"python -m matcher {command}" in written, f"no page explains `{command}`"
    for path, command, _ in docs_examples._walk():
        assert (command.help or "").strip(), f"`{' '.join(path)}` has no help text"


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    """One store for every shown output: the demo is embedded by the first command only."""
    return docs_examples.empty_store(tmp_path_factory.mktemp("docs") / "docs.sqlite")


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("MATCHER_CONFIG", "MATCHER_DATABASE_URL", "MATCHER_MODEL", "GITHUB_TOKEN"):
        monkeypatch.delenv(name, raising=False)


EXAMPLES = docs_examples.examples()


def test_the_docs_show_the_outputs_of_the_readmes_first_command():
    commands = [shlex.split(e.command) for e in EXAMPLES]
    assert any("--json" in words for words in commands)
    assert any("--json" not in words and "match" in words for words in commands)


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_a_shown_output_is_what_the_command_prints(example: Example, demo_store, clean_env):
    real = docs_examples.run_cli(example.args, demo_store)
    expected = docs_examples.shown_part(example, real)
    # numbers and ages aside (they move with the date and the model's last digits), exactly
    assert docs_examples.normalise(example.shown) == docs_examples.normalise(expected), REGENERATE


def test_normalising_keeps_words_and_order_but_not_numbers_or_ages():
    a = "1. 0.65  pytorch/vision#9063\n  - updated 46 days ago\n  - similarity 0.33"
    b = "1. 0.64  pytorch/vision#9063\n  - updated 3 months ago\n  - similarity 0.34"
    assert docs_examples.normalise(a) == docs_examples.normalise(b)
    assert docs_examples.normalise(a) != docs_examples.normalise(a.replace("vision", "audio"))


# A path in backquotes or a link that names a file of this repository: it must exist.
PATH = re.compile(r"[`(]((?:matcher|bot|tests|bench|config|scripts|docs|\.ci)/[\w./-]*\w)(?![\w*])")
LINK = re.compile(r"\]\(((?!https?:|#|mailto:)[^)#\s]+)")


@pytest.mark.parametrize("page", docs_examples.doc_files(), ids=lambda p: p.name)
def test_every_path_a_page_names_exists(page):
    text = page.read_text(encoding="utf-8")
    base = page.parent
    missing = [p for p in PATH.findall(text) if not (ROOT / p).exists()]
    missing += [link for link in LINK.findall(text) if not (base / link).exists()]
    assert not missing, f"{page.name} names what is not in the repository: {missing}"


def test_the_readme_is_a_five_minute_read():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert len(lines) <= 200, f"README.md has {len(lines)} lines; move detail into docs/"
    assert lines[3].startswith("bash scripts/install.sh && .venv/bin/python -m matcher match ")
    assert lines[4].startswith("EXTRAS=test bash scripts/install.sh && .venv/bin/python -m pytest")


def test_the_readmes_test_command_is_the_one_ci_runs():
    readme_command = README.read_text(encoding="utf-8").splitlines()[4].split(" && ", 1)[1]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert readme_command in ci


def test_every_page_is_in_the_site_navigation():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = sorted(p.name for p in DOCS.glob("*.md"))
    assert pages and not [p for p in pages if f" {p}" not in nav]


def test_every_bot_setting_is_documented():
    from bot.settings import BotSettings

    written = "\n".join(path.read_text(encoding="utf-8") for path in docs_examples.doc_files())
    names = [f"BOT_{name.upper()}" for name in BotSettings.model_fields]
    assert names and not [n for n in names if f"`{n}`" not in written]
