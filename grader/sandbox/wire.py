"""Data-only wire format between the sandboxed child and the trusted parent.

Frames are an 8-byte big-endian length followed by UTF-8 JSON: nothing is ever unpickled or
evaluated. Values that JSON cannot carry travel as tagged objects:

- tensors: {"$tensor": {"dtype": "float32", "shape": [2, 3], "data": base64 raw little-endian}}
- non-finite floats: {"$float": "nan" | "inf" | "-inf"} (JSON itself has no NaN)
- dicts: {"$dict": {...}} with string keys, so a student's dict can never pose as a tensor.

This module imports only the standard library at import time; torch is imported lazily when
a tensor is encoded or decoded, so the runner can validate results without torch.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

HEADER = struct.Struct(">Q")

# Element sizes of the dtypes allowed on the wire; torch names without the "torch." prefix.
DTYPE_SIZES: dict[str, int] = {
    "float64": 8,
    "float32": 4,
    "float16": 2,
    "bfloat16": 2,
    "int64": 8,
    "int32": 4,
    "int16": 2,
    "int8": 1,
    "uint8": 1,
    "bool": 1,
}
MAX_DEPTH = 32
MAX_DIMS = 8


class WireError(ValueError):
    """A value cannot be encoded, or received data is not a valid frame or value."""


@dataclass(frozen=True)
class DecodePolicy:
    """What the parent accepts when it turns wire data back into values."""

    max_elements: int = 50_000_000
    allow_nonfinite: bool = True


def pack_frame(obj: Any) -> bytes:
    """One length-prefixed JSON frame (raises WireError if obj is not plain JSON data)."""
    try:
        body = json.dumps(obj, allow_nan=False, separators=(",", ":")).encode("utf-8")
    except (TypeError, ValueError) as exc:
        raise WireError(f"not JSON data: {exc}") from exc
    return HEADER.pack(len(body)) + body


def unpack_single_frame(data: bytes, max_bytes: int) -> Any:
    """Parse exactly one frame; anything else (short, long, trailing bytes, bad JSON) fails."""
    if len(data) < HEADER.size:
        raise WireError(f"incomplete frame header ({len(data)} bytes)")
    (length,) = HEADER.unpack_from(data)
    if length > max_bytes:
        raise WireError(f"frame of {length} bytes is over the limit of {max_bytes} bytes")
    end = HEADER.size + length
    if len(data) < end:
        raise WireError(f"frame announces {length} bytes but only {len(data) - 8} arrived")
    if len(data) > end:
        raise WireError("more than one frame was sent")
    try:
        return json.loads(data[HEADER.size : end].decode("utf-8"), parse_constant=_no_constant)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise WireError(f"frame is not valid UTF-8 JSON: {exc}") from exc


def _no_constant(name: str) -> Any:
    raise WireError(f"JSON constant {name} is not allowed")


# ---------------------------------------------------------------- encoding (child side)


class _Budget:
    """Counts encoded bytes so a huge result fails fast instead of exhausting memory."""

    def __init__(self, limit: int) -> None:
        self.left = limit

    def spend(self, n: int, where: str) -> None:
        self.left -= n
        if self.left < 0:
            raise WireError(f"{where}: the result is larger than the limit")


def encode_value(value: Any, max_bytes: int = 64 * 2**20) -> Any:
    """Turn numbers, strings, lists, tuples, dicts and torch tensors into wire data."""
    return _encode(value, "result", 0, _Budget(max_bytes))


def _encode(value: Any, where: str, depth: int, budget: _Budget) -> Any:
    if depth > MAX_DEPTH:
        raise WireError(f"{where}: nested deeper than {MAX_DEPTH} levels")
    budget.spend(8, where)
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) >= 2**63:
            raise WireError(f"{where}: integer {value} does not fit in 64 bits")
        return int(value)
    if isinstance(value, float):
        return _encode_float(value)
    if isinstance(value, str):
        budget.spend(len(value) * 4, where)
        return str(value)
    if isinstance(value, list | tuple):
        return [_encode(v, f"{where}[{i}]", depth + 1, budget) for i, v in enumerate(value)]
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise WireError(f"{where}: dict key {key!r} is not a string")
            budget.spend(len(key) * 4, where)
            out[str(key)] = _encode(item, f"{where}[{key!r}]", depth + 1, budget)
        return {"$dict": out}
    if type(value).__module__.startswith("torch") and hasattr(value, "dtype"):
        return _encode_tensor(value, where, budget)
    raise WireError(f"{where}: values of type {type(value).__name__} cannot be returned")


def _encode_float(value: float) -> Any:
    if math.isnan(value):
        return {"$float": "nan"}
    if math.isinf(value):
        return {"$float": "inf" if value > 0 else "-inf"}
    return float(value)


def _encode_tensor(value: Any, where: str, budget: _Budget) -> Any:
    import torch

    if not isinstance(value, torch.Tensor):
        raise WireError(f"{where}: values of type {type(value).__name__} cannot be returned")
    dtype = str(value.dtype).removeprefix("torch.")
    if dtype not in DTYPE_SIZES:
        raise WireError(f"{where}: tensor dtype {dtype} cannot be returned")
    if value.dim() > MAX_DIMS:
        raise WireError(f"{where}: tensor has {value.dim()} dimensions (at most {MAX_DIMS})")
    raw_size = value.numel() * DTYPE_SIZES[dtype]
    budget.spend(raw_size * 4 // 3 + 64, where)
    flat = value.detach().to("cpu").contiguous().reshape(-1)
    raw = bytes(flat.view(torch.uint8).untyped_storage()) if flat.numel() else b""
    if sys.byteorder != "little":
        raise WireError("tensors are sent little-endian; this machine is big-endian")
    return {
        "$tensor": {
            "dtype": dtype,
            "shape": [int(s) for s in value.shape],
            "data": base64.b64encode(raw[:raw_size]).decode("ascii"),
        }
    }


# ---------------------------------------------------------------- checking and decoding


def validate(data: Any, policy: DecodePolicy = DecodePolicy()) -> None:
    """Check wire data without building tensors: known tags, shapes, sizes, finiteness."""
    for _ in _walk(data, "result", 0, policy):
        pass


def decode_value(data: Any, policy: DecodePolicy = DecodePolicy()) -> Any:
    """Wire data back into Python values, with tensors as torch tensors."""
    return _decode(data, "result", 0, policy)


def _walk(data: Any, where: str, depth: int, policy: DecodePolicy) -> Iterator[None]:
    # Validation walk shared with decoding; yields once per node so callers can iterate.
    if depth > MAX_DEPTH:
        raise WireError(f"{where}: nested deeper than {MAX_DEPTH} levels")
    yield None
    if isinstance(data, list):
        for i, item in enumerate(data):
            yield from _walk(item, f"{where}[{i}]", depth + 1, policy)
    elif isinstance(data, dict):
        kind = _tag(data, where)
        if kind == "$dict":
            inner = data["$dict"]
            if not isinstance(inner, dict):
                raise WireError(f"{where}: $dict must hold an object")
            for key, item in inner.items():
                yield from _walk(item, f"{where}[{key!r}]", depth + 1, policy)
        elif kind == "$float":
            _decode_float(data["$float"], where, policy)
        else:
            _check_tensor(data["$tensor"], where, policy)
    elif isinstance(data, float):
        if not math.isfinite(data):
            raise WireError(f"{where}: non-finite number outside a $float tag")
    elif not (data is None or isinstance(data, bool | int | str)):
        raise WireError(f"{where}: unexpected JSON value of type {type(data).__name__}")


def _tag(data: dict[str, Any], where: str) -> str:
    if len(data) != 1 or next(iter(data)) not in ("$dict", "$float", "$tensor"):
        raise WireError(f"{where}: object is not a tagged $dict, $float or $tensor")
    return next(iter(data))


def _decode_float(text: Any, where: str, policy: DecodePolicy) -> float:
    values = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}
    if text not in values:
        raise WireError(f"{where}: unknown $float {text!r}")
    if not policy.allow_nonfinite:
        raise WireError(f"{where}: the value is {text}, a finite number is required")
    return values[text]


def _check_tensor(spec: Any, where: str, policy: DecodePolicy) -> tuple[str, list[int], bytes]:
    if not isinstance(spec, dict) or set(spec) != {"dtype", "shape", "data"}:
        raise WireError(f"{where}: $tensor needs exactly dtype, shape and data")
    dtype, shape, data = spec["dtype"], spec["shape"], spec["data"]
    if dtype not in DTYPE_SIZES:
        raise WireError(f"{where}: tensor dtype {dtype!r} is not allowed")
    if (
        not isinstance(shape, list)
        or len(shape) > MAX_DIMS
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape)
    ):
        raise WireError(f"{where}: tensor shape {shape!r} is not a list of at most 8 sizes")
    count = math.prod(shape)
    if count > policy.max_elements:
        raise WireError(
            f"{where}: tensor of shape {shape} has {count} elements, "
            f"over the limit of {policy.max_elements}"
        )
    if not isinstance(data, str):
        raise WireError(f"{where}: tensor data must be a base64 string")
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise WireError(f"{where}: tensor data is not base64: {exc}") from exc
    if len(raw) != count * DTYPE_SIZES[dtype]:
        raise WireError(
            f"{where}: tensor of shape {shape} and dtype {dtype} needs "
            f"{count * DTYPE_SIZES[dtype]} bytes, got {len(raw)}"
        )
    if not policy.allow_nonfinite and dtype in ("float64", "float32", "float16", "bfloat16"):
        _check_finite_raw(raw, dtype, where)
    return dtype, shape, raw


def _check_finite_raw(raw: bytes, dtype: str, where: str) -> None:
    import torch

    if not raw:
        return
    tensor = torch.frombuffer(bytearray(raw), dtype=getattr(torch, dtype))
    if not bool(torch.isfinite(tensor).all()):
        raise WireError(f"{where}: the tensor contains NaN or infinity")


def _decode(data: Any, where: str, depth: int, policy: DecodePolicy) -> Any:
    if depth > MAX_DEPTH:
        raise WireError(f"{where}: nested deeper than {MAX_DEPTH} levels")
    if isinstance(data, list):
        return [_decode(item, f"{where}[{i}]", depth + 1, policy) for i, item in enumerate(data)]
    if isinstance(data, dict):
        kind = _tag(data, where)
        if kind == "$dict":
            inner = data["$dict"]
            if not isinstance(inner, dict):
                raise WireError(f"{where}: $dict must hold an object")
            return {k: _decode(v, f"{where}[{k!r}]", depth + 1, policy) for k, v in inner.items()}
        if kind == "$float":
            return _decode_float(data["$float"], where, policy)
        return _build_tensor(*_check_tensor(data["$tensor"], where, policy))
    for _ in _walk(data, where, depth, policy):
        pass
    return data


def _build_tensor(dtype: str, shape: list[int], raw: bytes) -> Any:
    import torch

    torch_dtype = getattr(torch, dtype)
    if not raw:
        return torch.empty(shape, dtype=torch_dtype)
    return torch.frombuffer(bytearray(raw), dtype=torch_dtype).reshape(shape).clone()
