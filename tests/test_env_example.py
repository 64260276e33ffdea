""".env.example must list every variable config/settings.py reads, with its real default."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import environ
import pytest

ROOT = Path(__file__).resolve().parent.parent
SETTINGS_SOURCE = (ROOT / "config" / "settings.py").read_text()
ENV_EXAMPLE = (ROOT / ".env.example").read_text()

# env("NAME", …), env.str("NAME", …), env.db("NAME", …); the name may sit on the next line.
ENV_CALL = re.compile(r"\benv(?:\.(?P<cast>[a-z_]+))?\(\s*[\"'](?P<name>[A-Z][A-Z0-9_]*)[\"']")
# `NAME=value`, or `# NAME=value` for one left commented out.
EXAMPLE_LINE = re.compile(r"^(?P<commented>#\s*)?(?P<name>[A-Z][A-Z0-9_]*)=(?P<value>.*)$")
CASTS: dict[str, type] = {"str": str, "bool": bool, "int": int, "float": float, "list": list}


def _settings_names() -> set[str]:
    return {match["name"] for match in ENV_CALL.finditer(SETTINGS_SOURCE)}


def _example_entries() -> dict[str, tuple[bool, str]]:
    """NAME -> (commented out, value) for every assignment line of .env.example."""
    entries = {}
    for line in ENV_EXAMPLE.splitlines():
        match = EXAMPLE_LINE.match(line.strip())
        if match:
            entries[match["name"]] = (bool(match["commented"]), match["value"])
    return entries


def _literal_defaults() -> dict[str, tuple[str, Any]]:
    """NAME -> (cast, default) for env.<cast>("NAME", default=…) calls whose default is
    a constant expression (`24 * 60 * 60` included); derived defaults are left out."""
    defaults: dict[str, tuple[str, Any]] = {}
    for node in ast.walk(ast.parse(SETTINGS_SOURCE)):
        if not (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "env"
            and node.func.attr in CASTS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            continue
        default = next((kw.value for kw in node.keywords if kw.arg == "default"), None)
        if default is None or not _is_constant_expression(default):
            continue
        value = eval(compile(ast.Expression(default), "<default>", "eval"), {"__builtins__": {}})
        defaults[node.args[0].value] = (node.func.attr, value)
    return defaults


def _is_constant_expression(node: ast.expr) -> bool:
    allowed = (ast.Constant, ast.BinOp, ast.UnaryOp, ast.List, ast.Tuple)
    parts = (ast.operator, ast.unaryop, ast.expr_context)
    return all(isinstance(child, (*allowed, *parts)) for child in ast.walk(node))


def test_the_settings_read_some_variables() -> None:
    # Guards the regex itself: a refactor of settings.py it no longer matches would
    # otherwise make the next test pass vacuously.
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "REDIS_URL", "THROTTLE_ANON"} <= _settings_names()


def test_every_variable_the_settings_read_is_listed() -> None:
    missing = _settings_names() - set(_example_entries())

    assert not missing, f".env.example lacks {sorted(missing)}"


def _checked_names() -> list[str]:
    # A commented-out line shows an example value (REDIS_URL), not the default.
    entries = _example_entries()
    return sorted(name for name in _literal_defaults() if not entries.get(name, (True, ""))[0])


@pytest.mark.parametrize("name", _checked_names())
def test_listed_value_is_the_settings_default(name: str) -> None:
    cast, default = _literal_defaults()[name]
    value = _example_entries()[name][1]

    parsed = environ.Env.parse_value(value, CASTS[cast])

    assert parsed == default, f"{name}: .env.example says {value!r}, settings default {default!r}"
