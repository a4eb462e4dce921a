"""Keep a file's definitions (imports, functions, classes, simple assignments), drop its
top-level work (downloads, DataLoaders, training loops, plots, prints, main blocks).

Student files run the whole training at import time; the grader only needs the definitions,
so the child executes the kept text, in which every dropped statement is a blank line (line
numbers in the child's error messages stay those of the student's file).

Import policy: imports of torch, numpy and the standard library are kept; torchvision,
matplotlib, tqdm and other plotting/progress/notebook libraries are dropped (the grader does
not provide them and the kept definitions rarely need them); imports of the submission's
own modules are dropped and recorded in `local_imports`, because the child loads all units
into one chain of namespaces in dependency order, which provides those names; imports of
modules that are not installed are dropped with a note.
"""

from __future__ import annotations

import ast
import importlib.util
import sys
from dataclasses import dataclass

from grader.extraction.code.files import CodeFile
from grader.extraction.code.syntax import (
    ParsedCode,
    alias_binding,
    dotted_name,
    parse_code,
    resolve,
    short_text,
)

DROPPED_LIBRARIES = {
    "torchvision": "torchvision (datasets, transforms) is not available to the grader",
    "matplotlib": "plotting",
    "seaborn": "plotting",
    "tqdm": "progress bars",
    "IPython": "notebook display",
    "google": "Colab helpers",
    "wandb": "experiment tracking",
    "tensorboard": "experiment tracking",
}
# Builtins that build plain values: calls to them keep an assignment.
PLAIN_CALLS = {
    "range", "list", "tuple", "dict", "set", "frozenset", "int", "float", "str", "bool",
    "len", "zip", "enumerate", "sorted", "reversed", "min", "max", "sum", "abs", "round",
}  # fmt: skip
# Library roots whose calls are cheap constructors (torch.device, nn.Conv2d, math.sqrt)...
VALUE_LIBRARIES = {"torch", "math", "numpy", "functools", "itertools", "collections"}
# ...except these, which load data, touch files or start work.
WORK_WORDS = ("utils.data", "DataLoader", "datasets", "load", "save", "hub", "download", "open")


@dataclass(frozen=True)
class Skipped:
    """A top-level statement that was not kept, for the report."""

    line: int
    where: str  # "file.py line 7" or "nb.ipynb cell 3 line 2"
    what: str
    narrowed: bool = False  # an `import a, b` kept with only some of its names

    def describe(self) -> str:
        return f"{self.where}: {self.what}"


@dataclass(frozen=True)
class FunctionSig:
    """A module-level function (or lambda assigned to a name) and how it can be called."""

    name: str
    line: int
    required: int  # positional parameters without defaults
    positional: int  # all positional parameters
    varargs: bool

    def accepts(self, count: int) -> bool:
        return self.required <= count and (self.varargs or count <= self.positional)


@dataclass(frozen=True)
class CodeUnit:
    """The definitions kept from one file, ready to be executed in the sandbox child."""

    file: str
    source: str  # the file's text with every dropped statement blanked
    names: tuple[str, ...]  # names the kept text defines
    functions: tuple[FunctionSig, ...]
    classes: tuple[str, ...]
    skipped: tuple[Skipped, ...]
    local_imports: tuple[str, ...] = ()  # submission modules this file imports
    notes: tuple[str, ...] = ()


def _sig(name: str, line: int, args: ast.arguments) -> FunctionSig:
    positional = len(args.posonlyargs) + len(args.args)
    return FunctionSig(
        name, line, positional - len(args.defaults), positional, args.vararg is not None
    )


def _module_available(top: str) -> bool:
    if top in sys.stdlib_module_names:
        return True
    try:
        # A top-level name only: find_spec does not execute anything for it.
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


@dataclass(frozen=True)
class _ImportVerdict:
    why: str | None  # why (some of) the names are dropped
    rewrite: str | None  # the statement importing only the names that are kept


class _Filter:
    """Decides statement by statement; remembers aliases and names of dropped statements."""

    def __init__(self, source: str, local_modules: frozenset[str]) -> None:
        self.source = source
        self.local_modules = local_modules
        self.aliases: dict[str, str] = {}  # local name -> dotted module path
        self.dropped_names: set[str] = set()
        self.defined: set[str] = set()
        self.local_imports: list[str] = []
        self.skipped: list[Skipped] = []
        # line -> the text of a kept `import a, b` narrowed to the names that can be kept
        self.rewrites: dict[int, str] = {}
        self.rewrite_allowed = True  # not inside an if/try, where a block is kept whole

    # --- imports -------------------------------------------------------------------------

    def _import_from(self, node: ast.ImportFrom) -> str | None:
        """None when the import is kept, else why it is dropped."""
        module = node.module or ""
        top = module.split(".")[0]
        bound = {alias_binding(a, node)[0] for a in node.names} - {"*"}
        if node.level > 0 or top in self.local_modules:
            self.local_imports.append(top or "." * node.level)
            self.defined |= bound
            # The child provides these names from the other unit, loaded first.
            return f"import of the submission's own module {top or '.'!r}"
        why = self._library_problem(top)
        if why is not None:
            self.dropped_names |= bound
            return why
        for a in node.names:
            name, path = alias_binding(a, node)
            self.aliases[name] = path
        self.defined |= bound
        return None

    def _library_problem(self, top: str) -> str | None:
        why = DROPPED_LIBRARIES.get(top)
        if why is None and not _module_available(top):
            why = f"module {top!r} is not installed for the grader"
        return None if why is None else f"import dropped ({why})"

    def _import(self, node: ast.Import) -> _ImportVerdict:
        """Each name of `import a, b` judged on its own, in source order."""
        kept: list[ast.alias] = []
        first_why: str | None = None
        for a in node.names:
            top = a.name.split(".")[0]
            name, path = alias_binding(a, node)
            if top in self.local_modules:
                self.local_imports.append(top)
                self.defined.add(name)
                # The child provides these names from the other unit, loaded first.
                why: str | None = f"import of the submission's own module {top!r}"
            else:
                why = self._library_problem(top)
                if why is not None:
                    self.dropped_names.add(name)
            if why is None:
                kept.append(a)
            elif first_why is None:
                first_why = why
        if first_why is None:
            self._bind(kept, node)
            return _ImportVerdict(None, None)
        if kept and node.lineno == node.end_lineno and self.rewrite_allowed:
            self._bind(kept, node)
            names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in kept)
            return _ImportVerdict(first_why, f"import {names}")
        for a in kept:
            self.dropped_names.add(alias_binding(a, node)[0])
        return _ImportVerdict(first_why, None)

    def _bind(self, kept: list[ast.alias], node: ast.Import) -> None:
        for a in kept:
            name, path = alias_binding(a, node)
            self.aliases[name] = path
            self.defined.add(name)

    # --- expressions ---------------------------------------------------------------------

    def _call_ok(self, call: ast.Call) -> str | None:
        """None when the call is a cheap value constructor, else why it is work."""
        name = dotted_name(call.func)
        if name is None:
            return "a computed call"
        root, _, rest = name.partition(".")
        if root in self.dropped_names:
            return f"uses {root}, which was skipped"
        if name in PLAIN_CALLS and root not in self.defined:
            return None
        full = resolve(name, self.aliases)
        if full.split(".")[0] not in VALUE_LIBRARIES:
            return f"calls {name}(...) (top-level work)"
        if any(w in full for w in WORK_WORDS):
            return f"calls {name}(...) (loads data or files)"
        return None

    def _value_problem(self, node: ast.expr) -> str | None:
        for sub in ast.walk(node):
            if isinstance(sub, ast.Lambda):
                continue
            if isinstance(sub, ast.Call):
                why = self._call_ok(sub)
                if why:
                    return why
            elif isinstance(sub, ast.Name) and sub.id in self.dropped_names:
                if sub.id not in self.defined:
                    return f"uses {sub.id}, which was skipped"
            elif isinstance(sub, ast.Await | ast.Yield | ast.YieldFrom | ast.NamedExpr):
                return "not a plain value"
        return None

    # --- statements ----------------------------------------------------------------------

    def keep(self, node: ast.stmt) -> bool:
        """Whether to keep a statement; records why when it is dropped."""
        if isinstance(node, ast.Import):
            verdict = self._import(node)
            why = verdict.why
            if why is not None and verdict.rewrite is not None:
                self.rewrites[node.lineno] = verdict.rewrite
                text = f"{why}: {short_text(node, self.source, 70)}; kept `{verdict.rewrite}`"
                self.skipped.append(Skipped(node.lineno, "", text, narrowed=True))
                return True
        else:
            why = self._why_dropped(node)
        if why is None:
            return True
        self.skipped.append(Skipped(node.lineno, "", f"{why}: {short_text(node, self.source, 70)}"))
        for target in _assigned_names(node):
            if target not in self.defined:
                self.dropped_names.add(target)
        return False

    def _why_dropped(self, node: ast.stmt) -> str | None:
        if isinstance(node, ast.ImportFrom):
            return self._import_from(node)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            self.defined.add(node.name)
            return None
        if isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if not all(_plain_target(t) for t in targets):
                return "assignment to an attribute or item"
            if node.value is not None:
                why = self._value_problem(node.value)
                if why:
                    return why
            self.defined |= set(_assigned_names(node))
            return None
        if isinstance(node, ast.Expr):
            if isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
                return None  # a docstring
            call = node.value if isinstance(node.value, ast.Call) else None
            name = dotted_name(call.func) if call else None
            if name == "print":
                return "print"
            if name and name.split(".")[0] in ("plt", "matplotlib", "sns"):
                return "plot"
            return "top-level expression"
        if isinstance(node, ast.If) and _is_main_guard(node.test):
            return '`if __name__ == "__main__"` block'
        if isinstance(node, ast.If | ast.Try) and self._block_ok(node):
            return None
        if isinstance(node, ast.For | ast.AsyncFor | ast.While):
            return "top-level loop (training or data work)"
        if isinstance(node, ast.With | ast.AsyncWith):
            return "top-level `with` block"
        return f"top-level {type(node).__name__.lower()} statement"

    def _block_ok(self, node: ast.If | ast.Try) -> bool:
        """An if/try at top level is kept only when everything inside would be kept, e.g.
        `if torch.cuda.is_available(): device = ... else: device = ...`."""
        if isinstance(node, ast.If) and self._value_problem(node.test):
            return False
        probe = _Filter(self.source, self.local_modules)
        probe.rewrite_allowed = False
        probe.aliases, probe.defined = dict(self.aliases), set(self.defined)
        probe.dropped_names = set(self.dropped_names)
        inner = [s for s in ast.iter_child_nodes(node) if isinstance(s, ast.stmt)]
        if isinstance(node, ast.Try):
            inner += [s for h in node.handlers for s in h.body]
        if not all(probe.keep(s) for s in inner):
            return False
        self.aliases, self.defined = probe.aliases, probe.defined
        return True


def _plain_target(t: ast.expr) -> bool:
    if isinstance(t, ast.Name):
        return True
    return isinstance(t, ast.Tuple | ast.List) and all(_plain_target(e) for e in t.elts)


def _assigned_names(node: ast.stmt) -> list[str]:
    out: list[str] = []
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = list(node.targets)
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    elif isinstance(node, ast.For | ast.AsyncFor):
        targets = [node.target]
    for t in targets:
        out += [n.id for n in ast.walk(t) if isinstance(n, ast.Name)]
    return out


def _is_main_guard(test: ast.expr) -> bool:
    if not isinstance(test, ast.Compare) or len(test.comparators) != 1:
        return False
    sides = [test.left, test.comparators[0]]
    names = {s.id for s in sides if isinstance(s, ast.Name)}
    consts = {s.value for s in sides if isinstance(s, ast.Constant)}
    return names == {"__name__"} and "__main__" in consts


def extract_unit(
    code: CodeFile, local_modules: frozenset[str] = frozenset(), parsed: ParsedCode | None = None
) -> CodeUnit:
    """Kept definitions of one file (parsed: parse_code(code), when the caller has it).
    Never raises on bad student input: notes say why."""
    if code.source is None:
        return CodeUnit(code.path, "", (), (), (), (), notes=code.notes)
    parsed = parsed or parse_code(code)
    tree, source, notes = parsed.tree, parsed.source, list(parsed.notes)
    if tree is None:
        return CodeUnit(code.path, "", (), (), (), (), notes=(*code.notes, *notes))
    filt = _Filter(source, local_modules)
    lines = source.split("\n")
    out = [""] * len(lines)
    functions: list[FunctionSig] = []
    classes: list[str] = []
    for node in tree.body:
        if not filt.keep(node):
            continue
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        last = node.end_lineno or node.lineno
        out[first - 1 : last] = lines[first - 1 : last]
        if node.lineno in filt.rewrites:
            out[node.lineno - 1] = _narrowed(lines[node.lineno - 1], node, filt.rewrites)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            functions.append(_sig(node.name, node.lineno, node.args))
        elif isinstance(node, ast.ClassDef):
            classes.append(node.name)
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
            for t in node.targets:
                if isinstance(t, ast.Name):
                    functions.append(_sig(t.id, node.lineno, node.value.args))
    # Statements sharing a line with `;`: a dropped one must not run with a kept neighbour.
    for s in filt.skipped:
        if not s.narrowed and 0 < s.line <= len(out) and out[s.line - 1]:
            out[s.line - 1] = ""
            notes.append(f"{code.where(s.line)}: several statements on one line; line skipped")
    skipped = tuple(Skipped(s.line, code.where(s.line), s.what, s.narrowed) for s in filt.skipped)
    names = tuple(sorted(filt.defined - filt.dropped_names | {f.name for f in functions}))
    return CodeUnit(
        file=code.path,
        source="\n".join(out),
        names=names,
        functions=tuple(functions),
        classes=tuple(classes),
        skipped=skipped,
        local_imports=tuple(dict.fromkeys(filt.local_imports)),
        notes=(*code.notes, *notes),
    )


def _narrowed(line: str, node: ast.stmt, rewrites: dict[int, str]) -> str:
    """The line with the statement's own columns (UTF-8 offsets) replaced by its rewrite."""
    data = line.encode()
    end = node.end_col_offset if node.end_col_offset is not None else len(data)
    text = rewrites[node.lineno].encode()
    return (data[: node.col_offset] + text + data[end:]).decode()
