"""P5 child tasks: call the student's two-argument functions on probe inputs, and train a
logistic model with one of them. Runs INSIDE the sandbox child: standard library and torch
only. Each task returns {"result": wire data} (grader.sandbox.wire.encode_value of plain numbers,
lists and strings); the parent decodes and judges.

Request of "p5.probe_losses":
  units: [{file, source}] in load order; functions: [{unit, name}];
  probes: [{z: [float], y: [float], column: bool}]; call_seconds: float
Request of "p5.train":
  units; function: {unit, name, swapped: bool, column: bool, reduce_mean: bool};
  protocol: {learning_rate, batch_size, epochs, seed}; data: {path, sha256}
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from grader.sandbox import wire
from grader.sandbox.tasks.child_support import CallTimeout, error_text, exec_units, time_limit

MAGIC = b"MNIST49\n"  # the bundled data format (grader/data/mnist49.py, duplicated: child side)


def _as_list(t: torch.Tensor) -> list[float | None]:
    """Plain JSON numbers; NaN and infinity (which JSON cannot carry) become null."""
    values = t.detach().reshape(-1).to(torch.float64).tolist()
    return [float(v) if math.isfinite(v) else None for v in values]


def call_probe(
    fn: Callable[..., Any], probe: dict[str, Any], swapped: bool, seconds: float
) -> dict[str, Any]:
    shape = (-1, 1) if probe["column"] else (-1,)
    z = torch.tensor(probe["z"], dtype=torch.float64).reshape(shape).requires_grad_(True)
    y = torch.tensor(probe["y"], dtype=torch.float64).reshape(shape)
    try:
        with time_limit(seconds):
            out = fn(y, z) if swapped else fn(z, y)
            if not isinstance(out, torch.Tensor):
                return {"status": "not_tensor", "message": f"returned {type(out).__name__}"}
            value = _as_list(out)
            grad: list[float | None] | None = None
            if out.requires_grad and None not in value:
                (g,) = torch.autograd.grad(out.sum(), z, allow_unused=True)
                grad = None if g is None else _as_list(g)
    except CallTimeout:
        return {"status": "timeout", "message": f"did not return within {seconds:g} s"}
    except BaseException as exc:  # noqa: BLE001
        return {"status": "error", "message": error_text(exc)}
    return {"status": "ok", "value": value, "grad": grad}


def probe_losses(request: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Call every listed function on every probe, in both argument orders."""
    return {"result": wire.encode_value(_probe_losses(request))}


def _probe_losses(request: dict[str, Any]) -> dict[str, Any]:
    seconds = float(request.get("call_seconds", 2.0))
    spaces, errors = exec_units(list(request["units"]), seconds)
    results = []
    for entry in request["functions"]:
        fn = spaces[int(entry["unit"])].get(str(entry["name"]))
        if not callable(fn):
            results.append({"name": entry["name"], "unit": entry["unit"], "missing": True})
            continue
        calls: dict[str, list[dict[str, Any]]] = {"plain": [], "swapped": []}
        for order in ("plain", "swapped"):
            for probe in request["probes"]:
                r = call_probe(fn, probe, order == "swapped", seconds)
                calls[order].append(r)
                if r["status"] == "timeout":
                    break  # one hang is enough to know; do not spend the budget twice
            if any(r["status"] == "timeout" for r in calls[order]):
                break
        results.append({"name": entry["name"], "unit": entry["unit"], "calls": calls})
    return {"load_errors": errors, "functions": results}


def read_train_split(path: Path, sha256: str) -> tuple[torch.Tensor, torch.Tensor]:
    blob = path.read_bytes()
    if hashlib.sha256(blob).hexdigest() != sha256:
        raise ValueError(f"{path.name}: checksum mismatch")
    raw = gzip.decompress(blob)
    end = raw.index(b"\n", len(MAGIC))
    header = json.loads(raw[len(MAGIC) : end])
    n, size = int(header["count"]), int(header["rows"]) * int(header["cols"])
    body = raw[end + 1 :]
    x = torch.frombuffer(bytearray(body[: n * size]), dtype=torch.uint8).reshape(n, size)
    y = torch.frombuffer(bytearray(body[n * size : n * size + n]), dtype=torch.int8)
    return x.to(torch.float32) / 255.0, y.to(torch.float32)


def train_logistic(
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    y: torch.Tensor,
    protocol: dict[str, Any],
    column: bool,
    reduce_mean: bool,
) -> dict[str, Any]:
    """Plain SGD on z = a^T x + b with prebuilt tensors (no DataLoader: same maths, less cost).
    Initialisation as nn.Linear(784, 1) does, from the protocol's seed."""
    gen = torch.Generator().manual_seed(int(protocol["seed"]))
    bound = 1.0 / math.sqrt(x.shape[1])
    a = (torch.rand(x.shape[1], generator=gen) * 2 - 1) * bound
    b = (torch.rand(1, generator=gen) * 2 - 1) * bound
    a.requires_grad_(True)
    b.requires_grad_(True)
    lr, batch = float(protocol["learning_rate"]), int(protocol["batch_size"])
    for _ in range(int(protocol["epochs"])):
        order = torch.randperm(x.shape[0], generator=gen)
        for start in range(0, x.shape[0], batch):
            idx = order[start : start + batch]
            z = x[idx] @ a + b
            target = y[idx]
            if column:
                z, target = z.reshape(-1, 1), target.reshape(-1, 1)
            loss = loss_fn(z, target)
            if reduce_mean:
                loss = loss.mean()
            ga, gb = torch.autograd.grad(loss, (a, b))
            with torch.no_grad():
                a -= lr * ga
                b -= lr * gb
    finite = bool(torch.isfinite(a).all() and torch.isfinite(b).all())
    return {
        "weights": _as_list(a),
        "bias": float(b.detach()) if finite else None,
        "finite": finite,
    }


def train(request: dict[str, Any], workdir: Path) -> dict[str, Any]:
    """Train with one student function on the training split; return the learned weights."""
    return {"result": wire.encode_value(_train(request))}


def _train(request: dict[str, Any]) -> dict[str, Any]:
    spaces, errors = exec_units(list(request["units"]), float(request.get("call_seconds", 2.0)))
    entry = request["function"]
    fn = spaces[int(entry["unit"])].get(str(entry["name"]))
    if not callable(fn):
        return {"status": "missing", "message": "; ".join(errors) or f"{entry['name']} not found"}
    data = request["data"]
    x, y = read_train_split(Path(data["path"]), str(data["sha256"]))
    swapped = bool(entry["swapped"])

    def loss_fn(z: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        out = fn(t, z) if swapped else fn(z, t)
        if not isinstance(out, torch.Tensor):
            raise TypeError(f"the loss returned {type(out).__name__}, not a tensor")
        return out

    try:
        result = train_logistic(
            loss_fn, x, y, request["protocol"], bool(entry["column"]), bool(entry["reduce_mean"])
        )
    except BaseException as exc:  # noqa: BLE001
        return {
            "status": "error",
            "message": f"training with {entry['name']} failed: {error_text(exc)}",
        }
    result["status"] = "ok"
    return result
