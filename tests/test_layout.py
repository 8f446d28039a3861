"""The rooms keep to their purpose: SQL is written in models/, jobs never reach into the
handlers, the wording in messages/ stands on its own, and locales/ knows nothing of models/."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
STATEMENTS = {"select", "insert", "update", "delete", "text", "union", "union_all"}
# Still writing their own SQL until the single sending path moves it into models/.
NOT_YET_MOVED = {"bot/runtime.py", "bot/delivery.py", "handlers/router.py"}


def _imports(path: Path) -> list[tuple[str, set[str]]]:
    """(module, names) for every import in a file, function-level imports included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, set()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.append((node.module, {alias.name for alias in node.names}))
    return found


def _files(*packages: str) -> list[Path]:
    return sorted(p for package in packages for p in (ROOT / package).rglob("*.py"))


def _name(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("jobs", ("handlers",)),
        ("messages", ("handlers", "jobs", "bot")),
        ("locales", ("models",)),
    ],
)
def test_a_room_does_not_import_the_rooms_above_it(package: str, forbidden: tuple) -> None:
    wrong = [
        f"{_name(path)} imports {module}"
        for path in _files(package)
        for module, _ in _imports(path)
        if module.split(".")[0] in forbidden
    ]
    assert not wrong, wrong


def test_sql_statements_are_built_in_models_only() -> None:
    wrong = [
        f"{_name(path)} imports {', '.join(sorted(names & STATEMENTS))} from {module}"
        for path in _files("bot", "handlers", "jobs", "messages", "locales")
        if _name(path) not in NOT_YET_MOVED
        for module, names in _imports(path)
        if module.split(".")[0] == "sqlalchemy" and names & STATEMENTS
    ]
    assert not wrong, wrong
