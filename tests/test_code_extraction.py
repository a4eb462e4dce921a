"""Static reading of student code: files found, definitions kept, top-level work dropped,
bad files turned into notes, tampering flagged. Nothing here runs student code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from grader.extraction.code import (
    CodeFile,
    CodeUnit,
    FileKind,
    FunctionSig,
    TamperKind,
    extract_unit,
    read_submission_code,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "shared" / "examples"  # beside the repo


def test_carol_keeps_definitions_and_drops_downloads_and_loops() -> None:
    code = read_submission_code(EXAMPLES / "carol_tex")
    files = [u.file for u in code.units]
    assert sorted(files) == ["lenet_original.py", "square_loss.py"]  # __pycache__ skipped
    lenet = code.unit_defining("C3_layer")
    assert lenet is not None and lenet.classes == ("C3_layer", "LeNet")
    assert "datasets.MNIST" not in lenet.source and "for epoch" not in lenet.source
    assert "model = LeNet()" not in lenet.source and "print(" not in lenet.source
    # line numbers are preserved: the class stays on the student's line
    assert lenet.source.split("\n")[9].startswith("class C3_layer")
    skipped = " | ".join(code.skipped)
    for expected in ("torchvision", "line 6", "DataLoader", "top-level loop", "print"):
        assert expected in skipped
    assert {f.name for _, f in code.functions_taking(2)} == {"cross_entropy", "squares"}
    assert code.findings == ()


def test_dave_and_erin_are_read_whole() -> None:
    dave = read_submission_code(EXAMPLES / "dave_md_mistakes")
    assert {f.name for _, f in dave.functions_taking(2)} == {"square_loss", "ce_loss"}
    assert dave.unit_defining("C3_layer") is not None
    erin = read_submission_code(EXAMPLES / "erin_md_sparse")
    assert erin.unit_defining("C3_layer") is None
    assert [f.name for _, f in erin.functions_taking(2)] == ["my_square_loss"]


def _notebook(cells: list[tuple[str, str]]) -> str:
    return json.dumps(
        {
            "cells": [
                {"cell_type": kind, "source": text.splitlines(keepends=True), "metadata": {}}
                for kind, text in cells
            ],
            "nbformat": 4,
        }
    )


def test_messy_submission(tmp_path: Path) -> None:
    (tmp_path / "sub dir").mkdir()
    (tmp_path / "__pycache__").mkdir()
    (tmp_path / "__pycache__" / "junk.py").write_text("def junk(a, b): pass\n")
    (tmp_path / "sub dir" / "my losses.py").write_text(
        "import torch\nimport matplotlib.pyplot as plt\nimport tqdm\n"
        "if torch.cuda.is_available():\n    device = 'cuda'\nelse:\n    device = 'cpu'\n"
        "ch_in_3 = [[0, 1, 2], [1, 2, 3]]\n"
        "loss2 = lambda z, y: (z - y) ** 2\n"
        "def sq(z, y, scale=1.0):\n    return scale * torch.sigmoid(-y * z) ** 2\n"
        "plt.plot([1, 2])\n"
        "if __name__ == '__main__':\n    sq(1, 2)\n"
    )
    (tmp_path / "broken.py").write_text("def f(a, b:\n    return a\n")
    (tmp_path / "latin.py").write_bytes("x = 'caf\xe9'\n".encode("latin-1"))
    (tmp_path / "hw.ipynb").write_text(
        _notebook(
            [
                ("markdown", "# P5"),
                ("code", "!pip install torch\n%matplotlib inline\nimport torch"),
                ("code", "def nb_loss(z, y):\n    return torch.mean(z * y)"),
                ("code", "def broken(:\n    pass"),
                ("code", "%%time\nfor i in range(3):\n    pass"),
                ("code", "for epoch in range(3):\n    nb_loss(1, 2)"),
            ]
        )
    )
    code = read_submission_code(tmp_path)
    files = sorted(u.file for u in code.units)
    assert files == ["broken.py", "hw.ipynb", "latin.py", "sub dir/my losses.py"]
    losses = next(u for u in code.units if u.file == "sub dir/my losses.py")
    assert {"device", "ch_in_3", "sq", "loss2", "torch"} <= set(losses.names)
    assert "plt" not in losses.names and "plt.plot" not in losses.source
    assert "__main__" not in losses.source
    sq = _function(losses, "sq")
    assert sq is not None and sq.accepts(2) and sq.accepts(3) and not sq.accepts(1)
    notes = " | ".join(code.notes)
    assert "broken.py line 1: syntax error" in notes
    assert "latin.py: not UTF-8" in notes
    assert "hw.ipynb cell 3 line 1: syntax error" in notes
    nb = next(u for u in code.units if u.file == "hw.ipynb")
    assert _function(nb, "nb_loss") is not None and "pip" not in nb.source
    assert any("cell 5 line 1: top-level loop" in s for s in code.skipped)
    names = {f.name for _, f in code.functions_taking(2)}
    assert names == {"sq", "loss2", "nb_loss"}  # junk in __pycache__ is not read


def test_imports_of_own_modules_order_the_units(tmp_path: Path) -> None:
    (tmp_path / "a_main.py").write_text("from layers import C3_layer\nmodel = C3_layer()\n")
    (tmp_path / "layers.py").write_text(
        "import torch\nclass C3_layer(torch.nn.Module):\n    pass\n"
    )
    code = read_submission_code(tmp_path)
    assert [u.file for u in code.units] == ["layers.py", "a_main.py"]
    assert code.units[1].local_imports == ("layers",)
    assert "from layers" not in code.units[1].source


def test_tamper_scan_flags_hostile_code(tmp_path: Path) -> None:
    (tmp_path / "evil.py").write_text(
        "import torch, subprocess\nimport builtins\nfrom os import system\nimport sys\n"
        "class C3_layer(torch.nn.Module):\n"
        "    def parameters(self, recurse=True):\n        return iter([])\n"
        "torch.allclose = lambda *a, **k: True\n"
        "builtins.print = None\n"
        "def loss(z, y):\n    f = sys._getframe(1)\n    open('/etc/passwd').read()\n"
        "    return eval('z')\n"
    )
    (tmp_path / "fine.py").write_text(
        "import torch\ndef loss(z, y):\n    with open('notes.txt') as f:\n        pass\n"
        "    return torch.mean(z)\n"
    )
    code = read_submission_code(tmp_path)
    kinds = {(f.file, f.kind) for f in code.findings}
    for kind in (
        TamperKind.PROCESS,
        TamperKind.OVERRIDES_COUNTING,
        TamperKind.PATCHES_LIBRARY,
        TamperKind.INTROSPECTION,
        TamperKind.FILE_ACCESS,
        TamperKind.DYNAMIC_CODE,
    ):
        assert ("evil.py", kind) in kinds
    assert not any(f.file == "fine.py" for f in code.findings)
    patch = next(f for f in code.findings if "allclose" in f.text)
    assert patch.line == 8 and not patch.in_kept_code  # assignment to torch.* is dropped too
    override = next(f for f in code.findings if f.kind is TamperKind.OVERRIDES_COUNTING)
    assert override.in_kept_code and "evil.py line 6" in override.describe()


def test_missing_folder_is_a_note(tmp_path: Path) -> None:
    code = read_submission_code(tmp_path / "nope")
    assert code.units == () and "not a folder" in code.notes[0]


def _function(unit: CodeUnit, name: str) -> FunctionSig | None:
    return next((f for f in unit.functions if f.name == name), None)


def _unit(text: str, local: frozenset[str] = frozenset()) -> CodeUnit:
    return extract_unit(CodeFile("a.py", FileKind.PYTHON, text), local)


def test_import_of_several_modules_keeps_each_installed_one() -> None:
    unit = _unit("import numpy, matplotlib\nx = numpy.zeros(3)\n")
    assert unit.source.split("\n")[0] == "import numpy"
    assert "numpy" in unit.names and "x" in unit.names and "matplotlib" not in unit.names
    (skipped,) = unit.skipped
    assert "plotting" in skipped.what and "kept `import numpy`" in skipped.what
    # order and aliases do not matter
    unit = _unit("import matplotlib.pyplot as plt, numpy as np  # both\n")
    assert unit.source.startswith("import numpy as np") and "# both" in unit.source
    assert "np" in unit.names and "plt" not in unit.names
    # a statement over several lines is not rewritten: dropped, naming the first dropped module
    unit = _unit("import numpy, \\\n    matplotlib\n")
    assert unit.source.strip() == "" and "numpy" not in unit.names
    assert "plotting" in unit.skipped[0].what


def test_import_of_a_local_module_and_a_library() -> None:
    unit = _unit("import mylocal, torch\n", frozenset({"mylocal"}))
    assert unit.local_imports == ("mylocal",)
    assert unit.source.split("\n")[0] == "import torch"
    assert {"mylocal", "torch"} <= set(unit.names)
    assert "own module 'mylocal'" in unit.skipped[0].what
    unit = _unit("import lib_a, torch, lib_b\n", frozenset({"lib_a", "lib_b"}))
    assert unit.local_imports == ("lib_a", "lib_b")
    # a dropped statement sharing the line still blanks it
    unit = _unit("import numpy, matplotlib; print(1)\n")
    assert unit.source.strip() == "" and any("several statements" in n for n in unit.notes)


@pytest.mark.parametrize("seed", ["1", "2", "3", "4"])
def test_import_judgement_does_not_depend_on_the_hash_seed(seed: str) -> None:
    script = (
        "from grader.extraction.code import CodeFile, FileKind, extract_unit\n"
        "text = 'import numpy, matplotlib, torch\\n'\n"
        "u = extract_unit(CodeFile('a.py', FileKind.PYTHON, text))\n"
        "print(u.source.split(chr(10))[0])\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": seed}
    out = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "import numpy, torch"
