"""Registry of the tasks a sandboxed child may run.

A task is a function `(request: dict[str, Any], workdir: pathlib.Path) -> dict[str, Any]`
that runs inside the child and returns plain JSON data (tensors encoded with
`grader.sandbox.wire.encode_value`). To add one, add a line to TASKS; only modules inside
this package can be named, so a request can never make the child import anything else.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

TaskFunction = Callable[[dict[str, Any], Path], dict[str, Any]]

# task name -> "module:function", module relative to this package.
TASKS: dict[str, str] = {
    "generic.call": "generic:call",
    "p5.probe_losses": "p5:probe_losses",
    "p5.train": "p5:train",
    "p7.inspect": "p7:inspect",
}


class UnknownTask(LookupError):
    """The task name is not registered, or its module or function cannot be loaded."""


def is_registered(name: str) -> bool:
    return name in TASKS


def resolve(name: str) -> TaskFunction:
    """Import the task's module (inside this package only) and return its function."""
    target = TASKS.get(name)
    if target is None:
        known = ", ".join(sorted(TASKS))
        raise UnknownTask(f"unknown sandbox task {name!r} (known: {known})")
    module_name, _, function_name = target.partition(":")
    try:
        module = importlib.import_module(f"{__name__}.{module_name}")
    except ImportError as exc:
        message = f"task {name!r}: module {module_name!r} cannot be imported: {exc}"
        raise UnknownTask(message) from exc
    function = getattr(module, function_name, None)
    if not callable(function):
        raise UnknownTask(f"task {name!r}: {module_name}.{function_name} is not a function")
    task: TaskFunction = function
    return task
