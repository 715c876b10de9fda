"""The shape the project promises: a pure engine, and SQLAlchemy only inside storage/."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
IO_MODULES = {
    "sqlalchemy", "aiosqlite", "asyncpg", "httpx", "requests", "socket", "asyncio", "os", "subprocess", "time",
    "telegram", "slack_bolt", "slack_sdk", "fastapi", "starlette", "uvicorn", "random", "logging", "storage",
    "pathlib", "threading",
}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


ENGINE_FILES = sorted((ROOT / "bot" / "engine").rglob("*.py"))


@pytest.mark.parametrize("path", ENGINE_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_engine_does_no_io(path: Path) -> None:
    assert imports(path) & IO_MODULES == set()


def test_engine_imports_nothing_outside_itself_but_pure_libraries() -> None:
    allowed = {"bot", "transitions", "attrs", "jinja2", "rapidfuzz", "phonenumbers", "email_validator", "__future__",
               "collections", "dataclasses", "datetime", "enum", "typing", "re", "unicodedata", "functools",
               "itertools", "math", "decimal", "calendar", "string", "bisect", "heapq", "difflib", "operator",
               "fractions", "types"}
    for path in ENGINE_FILES:
        extra = imports(path) - allowed
        assert not extra, f"{path.relative_to(ROOT)} imports {sorted(extra)}"
    bot_imports = {
        node.module for path in ENGINE_FILES for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bot.")
    }
    assert all(name.startswith("bot.engine") for name in bot_imports), bot_imports


@pytest.mark.parametrize("path", sorted(p for p in (ROOT / "bot").rglob("*.py")), ids=lambda p: p.name)
def test_only_storage_imports_sqlalchemy(path: Path) -> None:
    assert "sqlalchemy" not in imports(path)
    assert "alembic" not in imports(path)


def test_only_composition_roots_read_the_environment() -> None:
    readers = {
        str(path.relative_to(ROOT)) for path in (ROOT / "bot").rglob("*.py")
        if "os.environ" in path.read_text(encoding="utf-8") or "getenv" in path.read_text(encoding="utf-8")
    }
    assert readers <= {"bot/cli.py", "bot/server.py"}, readers
