"""Dependencies point one way: the bot talks to matcher.operations, never to the store."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


IMPORTS = """
import ast, json, sys
from pathlib import Path

root = Path(sys.argv[1])
found = {}
for path in sorted((root / sys.argv[2]).rglob("*.py")):
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    found[str(path.relative_to(root))] = sorted(names)
print(json.dumps(found))
"""


def imported_modules(package: str) -> dict[str, set[str]]:
    """file -> every module it imports (absolute names).

    Parsed in a process of its own: CPython 3.11.7 keeps the AST validator's depth count per
    interpreter, so a background thread of an earlier test that parses code at the same moment
    makes ast.parse fail with "recursion depth mismatch".
    """
    done = subprocess.run(
        [sys.executable, "-c", IMPORTS, str(ROOT), package],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return {path: set(names) for path, names in json.loads(done.stdout).items()}


def test_the_bot_imports_nothing_from_the_store():
    offenders = {
        path: sorted(n for n in names if n == "matcher.store" or n.startswith("matcher.store."))
        for path, names in imported_modules("bot").items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_github_code_imports_no_store():
    offenders = {
        path: sorted(n for n in names if n.startswith("matcher.store"))
        for path, names in imported_modules("matcher/github").items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


# The bot reaches the matcher through matcher.operations and what they return (records and
# models, errors, settings, renderers); these are the matcher's insides.
INSIDES = ("matcher.github", "matcher.engine", "matcher.digest", "matcher.ramp")


def test_the_bot_reaches_the_matcher_only_through_operations():
    offenders = {
        path: sorted(n for n in names if any(n == x or n.startswith(x + ".") for x in INSIDES))
        for path, names in imported_modules("bot").items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_matcher_never_imports_discord():
    offenders = {
        path: sorted(n for n in names if n == "discord" or n.startswith("discord."))
        for path, names in imported_modules("matcher").items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_sync_asks_github_and_the_store_through_their_packages():
    """GitHub traffic stays in matcher/github/ and SQL in matcher/store/: the sync holds neither."""
    raw = ("httpx", "github", "sqlalchemy")
    offenders = {
        path: sorted(n for n in names if any(n == x or n.startswith(x + ".") for x in raw))
        for path, names in imported_modules("matcher/sync").items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}
    assert "matcher/sync/run.py" in imported_modules("matcher/sync")
