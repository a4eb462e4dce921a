"""The data-only wire format: round trips, and everything malformed or oversized refused."""

from __future__ import annotations

import json
import math

import pytest
import torch

from grader.sandbox import wire

LENIENT = wire.DecodePolicy()


def _roundtrip(value: object, policy: wire.DecodePolicy = LENIENT) -> object:
    frame = wire.pack_frame({"v": wire.encode_value(value)})
    data = wire.unpack_single_frame(frame, 2**20)
    return wire.decode_value(data["v"], policy)


@pytest.mark.parametrize(
    "tensor",
    [
        torch.arange(6, dtype=torch.float32).reshape(2, 3).t(),  # not contiguous
        torch.tensor([[1.5, -2.0]], dtype=torch.float64),
        torch.tensor([1, -7, 2**40], dtype=torch.int64),
        torch.tensor([True, False]),
        torch.tensor(3.25, dtype=torch.bfloat16),
        torch.zeros(0, 4),
    ],
)
def test_tensors_round_trip_exactly(tensor: torch.Tensor) -> None:
    back = _roundtrip(tensor)
    assert isinstance(back, torch.Tensor)
    assert back.dtype == tensor.dtype and back.shape == tensor.shape
    assert torch.equal(back, tensor)


def test_nested_values_round_trip() -> None:
    value = {"loss": 0.5, "names": ["a", "b"], "pair": (1, None), "inner": {"ok": True}}
    assert _roundtrip(value) == {
        "loss": 0.5,
        "names": ["a", "b"],
        "pair": [1, None],
        "inner": {"ok": True},
    }


def test_a_dict_cannot_pose_as_a_tensor() -> None:
    fake = {"$tensor": {"dtype": "float32", "shape": [1], "data": "AACAPw=="}}
    assert _roundtrip(fake) == fake


def test_non_finite_values_pass_or_fail_by_policy() -> None:
    value = [float("nan"), torch.tensor([1.0, float("inf")])]
    back = _roundtrip(value)
    assert isinstance(back, list) and math.isnan(back[0])
    with pytest.raises(wire.WireError, match="finite"):
        _roundtrip([float("nan")], wire.DecodePolicy(allow_nonfinite=False))
    with pytest.raises(wire.WireError, match=r"result\[1\]: the tensor contains NaN"):
        _roundtrip([1.0, value[1]], wire.DecodePolicy(allow_nonfinite=False))


def test_huge_or_inconsistent_tensor_claims_are_refused() -> None:
    huge = {"$tensor": {"dtype": "float32", "shape": [10**6, 10**6], "data": ""}}
    with pytest.raises(wire.WireError, match="over the limit"):
        wire.validate(huge)
    short = {"$tensor": {"dtype": "float32", "shape": [3], "data": "AACAPw=="}}
    with pytest.raises(wire.WireError, match="needs 12 bytes, got 4"):
        wire.decode_value(short)
    odd = {"$tensor": {"dtype": "object", "shape": [1], "data": ""}}
    with pytest.raises(wire.WireError, match="not allowed"):
        wire.validate(odd)
    with pytest.raises(wire.WireError, match="not a tagged"):
        wire.validate({"weights": [1, 2]})


def test_encoding_stops_at_the_byte_budget() -> None:
    with pytest.raises(wire.WireError, match="larger than the limit"):
        wire.encode_value(torch.zeros(1000), max_bytes=1000)
    with pytest.raises(wire.WireError, match="cannot be returned"):
        wire.encode_value(object())


def test_only_one_well_formed_frame_is_accepted() -> None:
    frame = wire.pack_frame({"a": 1})
    assert wire.unpack_single_frame(frame, 100) == {"a": 1}
    with pytest.raises(wire.WireError, match="more than one frame"):
        wire.unpack_single_frame(frame + frame, 100)
    with pytest.raises(wire.WireError, match="only"):
        wire.unpack_single_frame(frame[:-1], 100)
    with pytest.raises(wire.WireError, match="over the limit"):
        wire.unpack_single_frame(frame, 3)
    body = b"[NaN]"
    with pytest.raises(wire.WireError, match="NaN is not allowed"):
        wire.unpack_single_frame(wire.HEADER.pack(len(body)) + body, 100)
    body = json.dumps({"a": 1}).encode()[:-1]
    with pytest.raises(wire.WireError, match="not valid UTF-8 JSON"):
        wire.unpack_single_frame(wire.HEADER.pack(len(body)) + body, 100)
