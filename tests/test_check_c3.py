"""P7 from code: C3_layer parameter count, output shape and connection table measured in the
child and compared with Table I; wrong maps named; missing layer and tampering reported."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from grader.checks.c3_layer import check_c3, run_p7
from grader.extraction.code import read_submission_code
from grader.models import CountName, Status
from grader.reference import load_reference
from tests.test_check_loss import in_process

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "examples"  # beside the repo
SPEC = load_reference().p7


def judge(folder: Path, run: object = in_process) -> tuple:  # type: ignore[type-arg]
    return check_c3(SPEC, run_p7(read_submission_code(folder), folder, SPEC, run))  # type: ignore[arg-type]


def test_carol_is_right() -> None:
    params, shape, conn = judge(EXAMPLES / "carol_tex")
    assert [r.status for r in (params, shape, conn)] == [Status.PASSED] * 3
    assert "1516" in params.feedback and "60806" in params.details[0]
    assert [r.test_id for r in (params, shape, conn)] == [
        "P7 parameters",
        "P7 shape",
        "P7 connections",
    ]


def test_dave_map_9_is_named() -> None:
    params, shape, conn = judge(EXAMPLES / "dave_md_mistakes")
    assert params.status is Status.PASSED and shape.status is Status.PASSED
    assert conn.status is Status.PARTIAL
    assert "output map 9 reads [0, 2, 4, 5] instead of [0, 3, 4, 5]" in conn.feedback
    assert "output map 8" not in conn.feedback


def test_erin_has_no_layer() -> None:
    results = judge(EXAMPLES / "erin_md_sparse")
    assert all(r.status is Status.MISSING for r in results)
    assert "no C3_layer implementation submitted" in results[0].feedback


def test_full_convolution_and_a_hidden_count(tmp_path: Path) -> None:
    (tmp_path / "c3.py").write_text(
        "import torch.nn as nn\n"
        "class C3_layer(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n"
        "        self.conv = nn.Conv2d(6, 16, 5)\n"
        "    def forward(self, x):\n        return self.conv(x)\n"
        "    def parameters(self, recurse=True):\n"
        "        return iter(list(super().parameters())[:0] + [nn.Parameter(nn.init.zeros_(\n"
        "            nn.Parameter(__import__('torch').empty(1516)).data))])\n"
    )
    params, shape, conn = judge(tmp_path)
    assert params.status is Status.FAILED and "2416" in params.feedback
    assert "Needs review" in params.feedback and "1516" in params.feedback
    assert shape.status is Status.PASSED
    assert conn.status is Status.PARTIAL and "reads all 6 input maps" in conn.feedback
    assert "1 of 16" in conn.feedback


def test_wrong_shape_and_broken_layer(tmp_path: Path) -> None:
    (tmp_path / "c3.py").write_text(
        "import torch.nn as nn\n"
        "class C3_layer(nn.Module):\n"
        "    def __init__(self):\n        super().__init__()\n"
        "        self.conv = nn.Conv2d(6, 16, 3)\n"
        "    def forward(self, x):\n        return self.conv(x)\n"
    )
    _, shape, _ = judge(tmp_path)
    assert shape.status is Status.FAILED and "(2, 16, 12, 12)" in shape.feedback
    (tmp_path / "c3.py").write_text(
        "class C3_layer:\n    def __init__(self):\n        raise RuntimeError('unfinished')\n"
    )
    results = judge(tmp_path)
    assert all(r.status is Status.ERROR for r in results)
    assert "RuntimeError: unfinished" in results[0].feedback


@pytest.mark.slow
def test_dave_through_the_sandbox() -> None:
    from grader.checks.sandboxed import default_runner

    _, _, conn = judge(EXAMPLES / "dave_md_mistakes", default_runner())
    assert "output map 9 reads [0, 2, 4, 5] instead of [0, 3, 4, 5]" in conn.feedback


def test_a_run_without_a_usable_result_is_reported_on_every_item() -> None:
    from grader.checks.c3_layer import judge_c3
    from grader.sandbox.run_types import RunOutcome, RunStatus

    late = RunOutcome(RunStatus.TIMEOUT, None, "no result within 20 s", (), (), 20.0)
    judged = judge_c3(SPEC, late)
    assert [r.status for r in judged.results] == [Status.TIMEOUT] * 3 and not judged.counts
    assert judged.results[0].feedback == "C3_layer could not be measured: no result within 20 s"
    assert judge_c3(SPEC, replace(late, status=RunStatus.OUT_OF_MEMORY)).results[0].status is (
        Status.CRASHED
    )
    garbled = RunOutcome(RunStatus.OK, {"result": [1, 2]}, "returned", ("seccomp",), (), 1.0)
    (params, *_) = judge_c3(SPEC, garbled).results
    assert params.status is Status.INVALID_OUTPUT
    assert params.feedback == "the sandbox returned no result object"


def test_counts_measured_for_the_cross_check() -> None:
    from grader.checks.c3_layer import judge_c3

    folder = EXAMPLES / "carol_tex"
    judged = judge_c3(SPEC, run_p7(read_submission_code(folder), folder, SPEC, in_process))
    assert dict(judged.counts) == {CountName.C3_ORIGINAL: 1516, CountName.LENET_ORIGINAL: 60806}
