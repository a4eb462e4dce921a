"""Generic task: load a submission's Python source and call one function with given arguments.

Request: {"function": name, "args": [wire values], and either "source": text or "file": a path
relative to the working directory}. Result: {"result": wire value}.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import torch  # noqa: F401 - imported before the sandbox closes, so student code finds it

from grader.sandbox import wire


class RequestError(ValueError):
    """The request itself is malformed (a grader bug, not the student's)."""


def call(request: dict[str, Any], workdir: Path) -> dict[str, Any]:
    function_name = request.get("function")
    if not isinstance(function_name, str):
        raise RequestError("request.function must be a string")
    args = wire.decode_value(request.get("args", []))
    if not isinstance(args, list):
        raise RequestError("request.args must be a list")
    source, filename = _source(request, workdir)
    module = types.ModuleType("submission")
    module.__file__ = filename
    sys.modules["submission"] = module
    code = compile(source, filename, "exec")
    exec(code, module.__dict__)  # noqa: S102 - the point of the sandbox
    function = module.__dict__.get(function_name)
    if not callable(function):
        raise LookupError(f"the submission defines no function named {function_name!r}")
    result = function(*args)
    return {"result": wire.encode_value(result, int(request.get("max_bytes", 64 * 2**20)))}


def _source(request: dict[str, Any], workdir: Path) -> tuple[str, str]:
    if isinstance(request.get("source"), str):
        return request["source"], str(workdir / "submission.py")
    relative = request.get("file")
    if not isinstance(relative, str):
        raise RequestError("request needs a 'source' text or a 'file' path")
    path = (workdir / relative).resolve()
    if not path.is_relative_to(workdir.resolve()):
        raise RequestError(f"request.file {relative!r} is outside the submission")
    data = path.read_bytes()
    try:
        return data.decode("utf-8"), str(path)
    except UnicodeDecodeError as exc:
        raise UnicodeDecodeError(
            exc.encoding, exc.object, exc.start, exc.end, f"{relative} is not UTF-8 text"
        ) from None
