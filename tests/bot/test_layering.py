"""Dependencies point one way: the bot talks to matcher.operations, never to the store."""

import ast
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def parse(path: Path) -> ast.Module:
    """The file's syntax tree, parsed on a fresh thread: CPython 3.11.7's AST validator can fail
    with "recursion depth mismatch" on a thread whose depth count an earlier test disturbed."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(ast.parse, path.read_text(encoding="utf-8")).result()


def imported_modules(package: str) -> dict[str, set[str]]:
    """file -> every module it imports (absolute names)."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(parse(path)):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[str(path.relative_to(ROOT))] = names
    return found


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
