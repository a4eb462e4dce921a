"""Static scan for code that could fool or attack the grader. Findings are "needs review"
flags shown beside the score; they never change it (the sandbox is what stops an attack)."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from enum import Enum

from grader.extraction.code.files import CodeFile
from grader.extraction.code.syntax import (
    ParsedCode,
    dotted_name,
    import_bindings,
    parse_code,
    resolve,
    short_text,
)


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
        short = short_text(node, self.source, 80)
        where = self.code.where(line)
        self.found.append(
            TamperFinding(self.code.path, line, where, kind, short, line in self.kept)
        )

    def resolve(self, node: ast.expr) -> str | None:
        name = dotted_name(node)
        return None if name is None else resolve(name, self.aliases)

    def visit_Import(self, node: ast.Import) -> None:
        self.aliases.update(import_bindings(node))
        for a in node.names:
            kind = MODULE_KINDS.get(a.name.split(".")[0])
            if kind:
                self.flag(node, kind)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = node.module or ""
        self.aliases.update(import_bindings(node))
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


def scan_tampering(
    code: CodeFile, kept_source: str = "", parsed: ParsedCode | None = None
) -> tuple[TamperFinding, ...]:
    """Findings in one file. kept_source is the CodeUnit text (blank where code was dropped),
    used to say whether a finding is in code the grader runs; parsed is parse_code(code),
    when the caller has it."""
    if code.source is None:
        return ()
    kept = frozenset(i + 1 for i, line in enumerate(kept_source.split("\n")) if line.strip())
    scanner = _Scanner(code, code.source, kept)
    for tree in (parsed or parse_code(code)).trees:
        scanner.visit(tree)
    return tuple(sorted(scanner.found, key=lambda f: f.line))
