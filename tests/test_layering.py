"""Data flows one way: a lower layer never imports a higher one (DESIGN.md, 'Layers')."""

from __future__ import annotations

import ast
from pathlib import Path

import grader

ROOT = Path(grader.__file__).parent

# Lowest first. A module may import from its own layer or any layer before it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("grader.models", "grader.cache"),
    ("grader.reference",),
    ("grader.latex", "grader.formula"),
    ("grader.extraction", "grader.sandbox", "grader.data", "grader.manual_scores"),
    ("grader.checks",),
    ("grader.inputs", "grader.code_runs", "grader.pipeline"),
    ("grader.reporting",),
    ("grader.api", "grader.gradebook", "grader.batch", "grader.exports", "grader.cli_common"),
    ("grader.cli",),
)


def layer_of(module: str) -> int | None:
    for index, prefixes in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return index
    return None


def modules() -> list[tuple[str, Path]]:
    found = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts.pop()
        found.append((".".join(parts), path))
    return found


def grader_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names if a.name.startswith("grader"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("grader"):
            names.add(node.module)
            names.update(f"{node.module}.{a.name}" for a in node.names)
    return names


def test_every_module_has_a_layer() -> None:
    unplaced = [name for name, _ in modules() if name != "grader" and layer_of(name) is None]
    assert unplaced == [], f"place these modules in LAYERS: {unplaced}"


def test_no_lower_layer_imports_a_higher_one() -> None:
    violations = []
    for name, path in modules():
        mine = layer_of(name)
        if mine is None:
            continue
        for imported in grader_imports(path):
            theirs = layer_of(imported)
            if theirs is not None and theirs > mine:
                violations.append(f"{name} imports {imported}")
    assert violations == []


def test_the_check_above_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("from grader.cli import main\n")
    assert layer_of("grader.cli") > layer_of("grader.models")  # type: ignore[operator]
    assert "grader.cli.main" in grader_imports(bad)
