"""P7 from code: C3_layer parameter count, output shape and connection table measured in the
child and compared with Table I; wrong maps named; missing layer and tampering reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader.checks.c3_layer import check_c3, run_p7
from grader.extraction.code import read_submission_code
from grader.models import Status
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
