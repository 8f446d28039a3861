"""The rooms keep to their purpose: SQL is written in models/, the domain never reaches for
the paperwork or the chat, jobs never reach into the handlers, the wording in messages/
stands on its own, locales/ knows nothing of models/, and `dondoc run` never loads the
sandbox."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
STATEMENTS = {"select", "insert", "update", "delete", "text", "union", "union_all"}


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
        ("models", ("paperwork", "messages", "handlers", "jobs", "bot")),
        ("paperwork", ("handlers", "jobs", "bot")),
        ("jobs", ("handlers", "bot")),
        ("messages", ("handlers", "jobs", "bot")),
        ("handlers", ("jobs", "bot")),
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
        for path in _files("bot", "handlers", "jobs", "messages", "paperwork", "locales")
        for module, names in _imports(path)
        if module.split(".")[0] == "sqlalchemy" and names & STATEMENTS
    ]
    assert not wrong, wrong


def test_the_production_path_never_imports_the_sandbox() -> None:
    demo_only = {"bot/demo.py"}
    wrong = [
        f"{_name(path)} imports {module}"
        for path in _files("bot", "handlers", "jobs", "messages", "paperwork", "models")
        if _name(path) not in demo_only and not _name(path).startswith("bot/sandbox/")
        for module, _ in _imports(path)
        if module.startswith("bot.sandbox")
    ]
    assert not wrong, wrong


def test_loading_the_command_line_does_not_load_the_sandbox() -> None:
    probe = "import sys, bot.cli, bot.runtime; print('bot.sandbox' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_no_module_is_over_400_lines() -> None:
    """A room over ~400 lines is two rooms (tests and migrations aside)."""
    packages = ("bot", "handlers", "jobs", "messages", "models", "paperwork", "locales", "bench")
    long = [
        f"{_name(path)}: {lines} lines"
        for path in _files(*packages)
        if "migrations" not in path.parts
        and (lines := len(path.read_text(encoding="utf-8").splitlines())) > 400
    ]
    assert not long, long
