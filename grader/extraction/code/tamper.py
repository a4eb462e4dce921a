"""Static scan for code that could fool or attack the grader. Findings are "needs review"
flags shown beside the score; they never change it (the sandbox is what stops an attack)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from enum import Enum

from grader.extraction.code.definitions import dotted_name
from grader.extraction.code.files import CodeFile


class TamperKind(Enum):
    OVERRIDES_COUNTING = "overrides how parameters are counted or listed"
    PATCHES_LIBRARY = "patches torch, numpy or builtins"
    INTROSPECTION = "inspects or rewrites the running interpreter"
    PROCESS = "starts, signals or controls processes"
    NETWORK = "uses the network"
    FILE_ACCESS = "opens a file outside the submission"
    DYNAMIC_CODE = "runs dynamically built code"


@dataclass(frozen=True)
class TamperFinding:
    file: str
    line: int
    where: str
    kind: TamperKind
    text: str  # the statement, shortened
    in_kept_code: bool  # inside the definitions the grader executes

    def describe(self) -> str:
        ran = "" if self.in_kept_code else " (in skipped top-level code)"
        return f"{self.where}: {self.kind.value}{ran}: {self.text}"


COUNTING_METHODS = {
    "parameters", "named_parameters", "numel", "state_dict", "modules", "named_modules",
    "children", "__getattr__", "__getattribute__", "__setattr__", "__dir__", "buffers",
}  # fmt: skip
PATCHED_ROOTS = {"torch", "numpy", "builtins", "math", "sys", "os"}
MODULE_KINDS = {
    "gc": TamperKind.INTROSPECTION,
    "inspect": TamperKind.INTROSPECTION,
    "importlib": TamperKind.INTROSPECTION,
    "ctypes": TamperKind.INTROSPECTION,
    "builtins": TamperKind.PATCHES_LIBRARY,
    "signal": TamperKind.PROCESS,
    "subprocess": TamperKind.PROCESS,
    "multiprocessing": TamperKind.PROCESS,
    "pty": TamperKind.PROCESS,
    "socket": TamperKind.NETWORK,
    "urllib": TamperKind.NETWORK,
    "http": TamperKind.NETWORK,
    "requests": TamperKind.NETWORK,
    "ftplib": TamperKind.NETWORK,
}
OS_PROCESS = {
    "system", "fork", "forkpty", "kill", "killpg", "popen", "execv", "execve", "execvp",
    "execl", "execlp", "spawnv", "spawnl", "posix_spawn", "_exit", "setsid", "setuid",
}  # fmt: skip
SYS_INTROSPECTION = {
    "_getframe", "settrace", "setprofile", "modules", "meta_path", "path_hooks", "exit",
    "addaudithook", "setrecursionlimit",
}  # fmt: skip
DYNAMIC = {"eval", "exec", "compile", "__import__", "globals", "setattr", "delattr"}


class _Scanner(ast.NodeVisitor):
    def __init__(self, code: CodeFile, source: str, kept_lines: frozenset[int]) -> None:
        self.code = code
        self.source = source
        self.kept = kept_lines
        self.aliases: dict[str, str] = {}
        self.found: list[TamperFinding] = []

    def flag(self, node: ast.AST, kind: TamperKind) -> None:
        line = getattr(node, "lineno", 0)
        text = (ast.get_source_segment(self.source, node) or "").strip().splitlines()
        short = text[0] if text else type(node).__name__
        short = short if len(short) <= 80 else short[:77] + "..."
        where = self.code.where(line)
        self.found.append(
            TamperFinding(self.code.path, line, where, kind, short, line in self.kept)
        )

    def resolve(self, node: ast.expr) -> str | None:
        name = dotted_name(node)
        if name is None:
            return None
        root, _, rest = name.partition(".")
        full = self.aliases.get(root, root)
        return f"{full}.{rest}" if rest else full

    def visit_Import(self, node: ast.Import) -> None:
        for a in node.names:
            self.aliases[a.asname or a.name.split(".")[0]] = (
                a.name if a.asname else a.name.split(".")[0]
            )
            kind = MODULE_KINDS.get(a.name.split(".")[0])
            if kind:
                self.flag(node, kind)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        for a in node.names:
            self.aliases[a.asname or a.name] = f"{module}.{a.name}"
        top = module.split(".")[0]
        names = {a.name for a in node.names}
        if top in MODULE_KINDS:
            self.flag(node, MODULE_KINDS[top])
        elif top == "os" and names & OS_PROCESS:
            self.flag(node, TamperKind.PROCESS)
        elif top == "sys" and names & SYS_INTROSPECTION:
            self.flag(node, TamperKind.INTROSPECTION)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self._method(node)
        self.generic_visit(node)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self._method(node)
        self.generic_visit(node)

    def _method(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        if node.name in COUNTING_METHODS and node.col_offset > 0:
            self.flag(node, TamperKind.OVERRIDES_COUNTING)

    def _target(self, target: ast.expr, node: ast.stmt) -> None:
        if isinstance(target, ast.Tuple | ast.List):
            for e in target.elts:
                self._target(e, node)
            return
        if isinstance(target, ast.Subscript):
            target = target.value
        if not isinstance(target, ast.Attribute):
            if isinstance(target, ast.Name) and target.id == "__builtins__":
                self.flag(node, TamperKind.PATCHES_LIBRARY)
            return
        full = self.resolve(target) or ""
        if target.attr in COUNTING_METHODS:
            self.flag(node, TamperKind.OVERRIDES_COUNTING)
        elif full.split(".")[0] in PATCHED_ROOTS or full.startswith("__builtins__"):
            self.flag(node, TamperKind.PATCHES_LIBRARY)

    def visit_Assign(self, node: ast.Assign) -> None:
        for t in node.targets:
            self._target(t, node)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._target(node.target, node)
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._target(node.target, node)
        self.generic_visit(node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        full = self.resolve(node) or ""
        root, _, rest = full.partition(".")
        if root == "sys" and rest.split(".")[0] in SYS_INTROSPECTION:
            self.flag(node, TamperKind.INTROSPECTION)
        elif root == "os" and rest in OS_PROCESS:
            self.flag(node, TamperKind.PROCESS)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = dotted_name(node.func)
        if name in DYNAMIC:
            self.flag(node, TamperKind.DYNAMIC_CODE)
        elif name == "open" or self.resolve(node.func) in ("io.open", "os.open"):
            self._open(node)
        self.generic_visit(node)

    def _open(self, node: ast.Call) -> None:
        if not node.args:
            return
        arg = node.args[0]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            path = arg.value
            if path.startswith(("/", "~")) or ".." in path.replace("\\", "/").split("/"):
                self.flag(node, TamperKind.FILE_ACCESS)
        else:
            self.flag(node, TamperKind.FILE_ACCESS)  # a computed path: a person looks


def scan_tampering(code: CodeFile, kept_source: str = "") -> tuple[TamperFinding, ...]:
    """Findings in one file. kept_source is the CodeUnit text (blank where code was dropped),
    used to say whether a finding is in code the grader runs."""
    if code.source is None:
        return ()
    kept = frozenset(i + 1 for i, line in enumerate(kept_source.split("\n")) if line.strip())
    scanner = _Scanner(code, code.source, kept)
    for tree in _trees(code):
        scanner.visit(tree)
    return tuple(sorted(scanner.found, key=lambda f: f.line))


def _trees(code: CodeFile) -> list[ast.Module]:
    """The file's syntax tree; for a notebook with a broken cell, one tree per readable cell
    (line numbers shifted to the joined text), so the other cells are still scanned."""
    source = code.source or ""
    try:
        return [ast.parse(source)]
    except SyntaxError:
        pass  # extraction already notes the syntax error
    lines = source.split("\n")
    trees = []
    for first, last in code.cells:
        try:
            tree = ast.parse("\n".join(lines[first - 1 : last]))
        except SyntaxError:
            continue
        trees.append(ast.increment_lineno(tree, first - 1))
    return trees
