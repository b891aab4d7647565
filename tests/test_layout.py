"""The rooms of the code keep their rules (README, "How the code is laid out"): who may import what, no
import cycles, no module too long to hold in one's head. Read from the source, nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

BOT = Path(__file__).resolve().parent.parent / "bot"
MAX_LINES = 420
# Alembic's revision files are history, written once and never edited: they are not rooms.
HISTORY = BOT / "storage" / "migrations"


def modules() -> dict[str, Path]:
    found = {}
    for path in sorted(BOT.rglob("*.py")):
        if HISTORY in path.parents:
            continue
        parts = path.relative_to(BOT.parent).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def imports(path: Path) -> set[str]:
    """Every module a file imports, at any depth of the file (imports inside functions count too)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def importers_of(prefix: str) -> set[str]:
    return {name for name, path in modules().items()
            if any(i == prefix or i.startswith(prefix + ".") for i in imports(path))}


def inside(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def test_only_the_storage_imports_sqlalchemy_and_alembic():
    for library in ("sqlalchemy", "alembic"):
        assert {m for m in importers_of(library) if not inside(m, "bot.storage")} == set(), library


def test_only_telegram_ui_imports_telegram():
    assert {m for m in importers_of("telegram") if not inside(m, "bot.telegram_ui")} == set()


def test_the_front_ends_reach_the_core_through_helpdesk_not_the_storage():
    front_ends = {m for m in modules() if inside(m, "bot.telegram_ui") or m == "bot.console"}
    assert front_ends & importers_of("bot.storage") == set()


def test_no_import_cycles_between_modules():
    known = modules()
    graph = {name: {i for i in imports(path) if i in known and i != name} for name, path in known.items()}
    # A package's own __init__ re-exporting its modules is not a cycle: drop edges from a module to its parents.
    graph = {name: {i for i in targets if not name.startswith(i + ".")} for name, targets in graph.items()}
    state: dict[str, int] = {}  # 1: on the path being walked, 2: done

    def walk(name: str, path: list[str]) -> None:
        state[name] = 1
        for target in sorted(graph[name]):
            assert state.get(target) != 1, " -> ".join(path + [name, target])
            if target not in state:
                walk(target, path + [name])
        state[name] = 2

    for name in sorted(graph):
        if name not in state:
            walk(name, [])


def test_no_module_is_longer_than_one_can_hold_in_mind():
    long = {name: n for name, path in modules().items() if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
