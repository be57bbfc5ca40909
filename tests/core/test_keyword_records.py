"""Wide records are built by keyword: a dataclass with more than four fields is keyword-only (at
most one leading field, such as a pattern's name, may stay positional), so reordering its fields
can never silently swap values. NamedTuples on the tracking decode hot path are the exceptions,
named here with the reason."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("vpstage", "render", "devices", "ui", "cli", "remote")
WIDE = 4
HOT_PATH_TUPLES = {
    "CameraSample": "built per tracking packet; a NamedTuple is ten times cheaper than a frozen dataclass",
    "FreeDPosition": "built per FreeD packet (200k packets/s target); keywords cost it 20 %",
}


def _is_dataclass(node: ast.ClassDef) -> tuple[bool, bool]:
    """(a dataclass, declared kw_only=True)."""
    for decorator in node.decorator_list:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call else decorator
        name = target.attr if isinstance(target, ast.Attribute) else getattr(target, "id", "")
        if name == "dataclass":
            kw_only = any(k.arg == "kw_only" and isinstance(k.value, ast.Constant) and k.value.value is True
                          for k in (call.keywords if call else []))
            return True, kw_only
    return False, False


def _fields(node: ast.ClassDef) -> tuple[int, int]:
    """(fields, fields that may be given by position: those before a ``KW_ONLY`` marker)."""
    total, positional, marker = 0, 0, False
    for item in node.body:
        if not isinstance(item, ast.AnnAssign) or not isinstance(item.target, ast.Name):
            continue
        annotation = ast.unparse(item.annotation)
        if annotation.endswith("KW_ONLY"):
            marker = True
            continue
        if "ClassVar" in annotation:
            continue
        total += 1
        positional += 0 if marker else 1
    return total, positional


def _wide_records() -> list[tuple[str, ast.ClassDef]]:
    out = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                if isinstance(node, ast.ClassDef):
                    out.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return out


def test_every_wide_dataclass_is_keyword_only() -> None:
    offenders = []
    for where, node in _wide_records():
        is_dataclass, kw_only = _is_dataclass(node)
        total, positional = _fields(node)
        if is_dataclass and total > WIDE and not kw_only and positional > 1:
            offenders.append(f"{where} {node.name}: {total} fields, {positional} positional")
    assert not offenders, "make these keyword-only (kw_only=True, or KW_ONLY after the first field):\n" + \
        "\n".join(offenders)


def test_wide_named_tuples_are_only_the_hot_path_ones() -> None:
    tuples = {node.name for _, node in _wide_records()
              if any(ast.unparse(b).endswith("NamedTuple") for b in node.bases) and _fields(node)[0] > WIDE}
    assert tuples == set(HOT_PATH_TUPLES)
