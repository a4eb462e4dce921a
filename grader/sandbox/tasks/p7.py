"""P7 child task "p7.inspect": build the student's C3_layer (and LeNet when present) from the
kept definitions and measure it. Runs INSIDE the sandbox child: standard library and torch
only (plus the shared child helpers) and the wire format. Returns numbers; the parent compares.

Request: units: [{file, source}] in load order; c3_unit: int; lenet_unit: int | None;
input_shape: [6, 14, 14]; batch: int; seed: int; call_seconds: float
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import torch

from grader.sandbox import wire
from grader.sandbox.tasks.child_support import CallTimeout, error_text, exec_units, time_limit


def _count(tensors: Any) -> int:
    # torch.Tensor.numel from the base class: a student's tensor subclass cannot change it.
    return int(sum(torch.Tensor.numel(t) for t in tensors))


def parameter_counts(module: torch.nn.Module) -> dict[str, int]:
    """Three views of the size: what the module's own (possibly overridden) parameters()
    says, the base nn.Module walk, and the tensors of the base-class state_dict."""
    counts: dict[str, int] = {}
    try:
        counts["reported"] = _count(module.parameters())
    except BaseException:  # noqa: BLE001 - an override that raises is itself a finding
        counts["reported"] = -1
    counts["walked"] = _count(torch.nn.Module.parameters(module))
    buffers = {id(b) for b in torch.nn.Module.buffers(module)}
    state = torch.nn.Module.state_dict(module, keep_vars=True)
    counts["state"] = _count(t for t in state.values() if id(t) not in buffers)
    return counts


def connection_table(layer: torch.nn.Module, x: torch.Tensor) -> tuple[list[int], list[list[int]]]:
    """Output shape, and for each output map the input maps with a nonzero gradient."""
    x = x.clone().requires_grad_(True)
    out = layer(x)
    if not isinstance(out, torch.Tensor):
        raise TypeError(f"forward returned {type(out).__name__}, not a tensor")
    reads: list[list[int]] = []
    if out.dim() >= 2:
        for j in range(out.shape[1]):
            (g,) = torch.autograd.grad(out[:, j].sum(), x, retain_graph=True, allow_unused=True)
            if g is None:
                reads.append([])
                continue
            per_map = g.abs().sum(dim=tuple(d for d in range(g.dim()) if d != 1))
            reads.append([i for i in range(per_map.numel()) if float(per_map[i]) > 0])
    return [int(s) for s in out.shape], reads


def inspect(request: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Measure C3_layer (and LeNet); {"result": wire data}."""
    return {"result": wire.encode_value(_inspect(request))}


def _inspect(request: dict[str, Any]) -> dict[str, Any]:
    started = time.perf_counter()
    seconds = float(request.get("call_seconds", 10.0))
    spaces, errors = exec_units(list(request["units"]), seconds)
    result: dict[str, Any] = {"load_errors": errors}
    torch.manual_seed(int(request.get("seed", 0)))
    cls = spaces[int(request["c3_unit"])].get("C3_layer")
    if not callable(cls):
        result["c3"] = {"status": "error", "message": "C3_layer is not defined after loading"}
        return result
    try:
        with time_limit(seconds):
            layer = cls()
            if not isinstance(layer, torch.nn.Module):
                raise TypeError(f"C3_layer() built a {type(layer).__name__}, not an nn.Module")
            counts = parameter_counts(layer)
            x = torch.randn(int(request.get("batch", 2)), *[int(d) for d in request["input_shape"]])
            shape, reads = connection_table(layer, x)
        result["c3"] = {"status": "ok", "counts": counts, "shape": shape, "reads": reads}
    except CallTimeout:
        result["c3"] = {"status": "timeout", "message": f"did not finish within {seconds:g} s"}
    except BaseException as exc:  # noqa: BLE001 - any student failure becomes a message
        result["c3"] = {"status": "error", "message": error_text(exc)}
    lenet_unit = request.get("lenet_unit")
    if lenet_unit is not None:
        lenet = spaces[int(lenet_unit)].get("LeNet")
        try:
            with time_limit(seconds):
                model = lenet() if callable(lenet) else None
                if not isinstance(model, torch.nn.Module):
                    raise TypeError("LeNet() did not build an nn.Module")
                result["lenet"] = {"status": "ok", "counts": parameter_counts(model)}
        except CallTimeout:
            result["lenet"] = {"status": "timeout", "message": f"did not finish in {seconds:g} s"}
        except BaseException as exc:  # noqa: BLE001
            result["lenet"] = {"status": "error", "message": error_text(exc)}
    result["seconds"] = time.perf_counter() - started
    return result
