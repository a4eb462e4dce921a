"""Syntax helpers shared by definition keeping and the tamper scan: one parse per file, names
of imports, dotted names resolved through import aliases, statements shortened for reports."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from dataclasses import dataclass

from grader.extraction.code.files import CodeFile


@dataclass(frozen=True)
class ParsedCode:
    """One file parsed once. `tree` is the whole file (for a notebook, with broken cells
    blanked); `trees` is what the tamper scan reads: [tree], or when even the blanked text
    does not parse, one tree per readable cell (line numbers shifted to the joined text)."""

    tree: ast.Module | None
    source: str  # the text `tree` was parsed from (broken cells blank)
    notes: tuple[str, ...]
    trees: tuple[ast.Module, ...]


def parse_code(code: CodeFile) -> ParsedCode:
    """Parse; for a notebook, a cell with a syntax error is blanked so the others still count."""
    source = code.source or ""
    try:
        tree = ast.parse(source, filename=code.path)
        return ParsedCode(tree, source, (), (tree,))
    except SyntaxError as exc:
        if not code.cells:
            where = code.where(exc.lineno or 0)
            return ParsedCode(
                None, source, (f"{where}: syntax error ({exc.msg}); no definitions taken",), ()
            )
    lines = source.split("\n")
    notes = []
    cell_trees = []
    for first, last in code.cells:
        cell = "\n".join(lines[first - 1 : last])
        try:
            cell_trees.append(ast.increment_lineno(ast.parse(cell), first - 1))
        except SyntaxError as exc:
            line = first + (exc.lineno or 1) - 1
            notes.append(f"{code.where(line)}: syntax error ({exc.msg}); cell skipped")
            lines[first - 1 : last] = [""] * (last - first + 1)
    source = "\n".join(lines)
    try:
        tree = ast.parse(source, filename=code.path)
        return ParsedCode(tree, source, tuple(notes), (tree,))
    except SyntaxError as exc:
        notes.append(f"{code.path}: syntax error ({exc.msg}); no definitions taken")
        return ParsedCode(None, source, tuple(notes), tuple(cell_trees))


def dotted_name(node: ast.expr) -> str | None:
    """`torch.nn.Module` for the expression torch.nn.Module, None for anything else."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def alias_binding(alias: ast.alias, node: ast.Import | ast.ImportFrom) -> tuple[str, str]:
    """(local name, dotted path it refers to) for one name an import binds."""
    if isinstance(node, ast.ImportFrom):
        return alias.asname or alias.name, f"{node.module or ''}.{alias.name}"
    top = alias.name.split(".")[0]
    return alias.asname or top, alias.name if alias.asname else top


def import_bindings(node: ast.Import | ast.ImportFrom) -> list[tuple[str, str]]:
    return [alias_binding(a, node) for a in node.names]


def resolve(name: str, aliases: Mapping[str, str]) -> str:
    """A dotted name with its first part replaced by what the import alias refers to."""
    root, _, rest = name.partition(".")
    full = aliases.get(root, root)
    return f"{full}.{rest}" if rest else full


def short_text(node: ast.AST, source: str, limit: int) -> str:
    """The node's first source line, cut to `limit` characters, for a report."""
    lines = (ast.get_source_segment(source, node) or "").strip().splitlines()
    first = lines[0] if lines else type(node).__name__
    return first if len(first) <= limit else first[: limit - 3] + "..."
