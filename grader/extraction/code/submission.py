"""All the code of one submission: units in load order, tamper findings, reading notes."""

from __future__ import annotations

import graphlib
from dataclasses import dataclass
from pathlib import Path

from grader.extraction.code.definitions import CodeUnit, FunctionSig, extract_unit
from grader.extraction.code.files import find_code_files, read_code_file
from grader.extraction.code.syntax import parse_code
from grader.extraction.code.tamper import TamperFinding, scan_tampering


@dataclass(frozen=True)
class CodeSubmission:
    units: tuple[CodeUnit, ...]  # load order: a file comes after the files it imports
    findings: tuple[TamperFinding, ...]
    notes: tuple[str, ...]

    def functions_taking(self, count: int) -> tuple[tuple[CodeUnit, FunctionSig], ...]:
        """Module-level functions that can be called with `count` positional arguments."""
        return tuple((u, f) for u in self.units for f in u.functions if f.accepts(count))

    def unit_defining(self, name: str) -> CodeUnit | None:
        """The last unit (in load order) whose kept code defines `name`."""
        found = [u for u in self.units if name in u.names]
        return found[-1] if found else None

    @property
    def skipped(self) -> tuple[str, ...]:
        return tuple(s.describe() for u in self.units for s in u.skipped)


def _module_names(rel: str) -> set[str]:
    """Import names by which the submission's other files can refer to this one."""
    parts = rel.removesuffix(".py").split("/")
    return {parts[0], parts[-1], ".".join(parts)}


def _load_order(units: list[CodeUnit], notes: list[str]) -> tuple[CodeUnit, ...]:
    by_module: dict[str, CodeUnit] = {}
    for u in units:
        if u.file.endswith(".py"):
            for name in _module_names(u.file):
                by_module.setdefault(name, u)
    sorter: graphlib.TopologicalSorter[str] = graphlib.TopologicalSorter()
    for u in units:
        deps = [by_module[m].file for m in u.local_imports if m in by_module]
        sorter.add(u.file, *[d for d in deps if d != u.file])
    try:
        order = list(sorter.static_order())
    except graphlib.CycleError as exc:
        notes.append(f"files import each other in a cycle ({exc.args[1]}); loaded in name order")
        return tuple(units)
    rank = {f: i for i, f in enumerate(order)}
    return tuple(sorted(units, key=lambda u: rank[u.file]))


def read_submission_code(folder: Path) -> CodeSubmission:
    """Read every .py and .ipynb under folder statically; never runs any of it."""
    if not folder.is_dir():
        return CodeSubmission((), (), (f"{folder}: not a folder; no code read",))
    paths = find_code_files(folder)
    rels = [p.relative_to(folder).as_posix() for p in paths]
    local = frozenset(n for r in rels if r.endswith(".py") for n in _module_names(r))
    units: list[CodeUnit] = []
    findings: list[TamperFinding] = []
    notes: list[str] = []
    for path in paths:
        code = read_code_file(path, folder)
        parsed = parse_code(code)
        unit = extract_unit(code, local, parsed)
        units.append(unit)
        findings.extend(scan_tampering(code, unit.source, parsed))
        notes.extend(unit.notes)
    if not paths:
        notes.append("no .py or .ipynb files in the submission")
    return CodeSubmission(_load_order(units, notes), tuple(findings), tuple(notes))
