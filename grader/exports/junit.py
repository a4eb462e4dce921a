"""JUnit XML for CI systems: one testsuite per student, one testcase per check; every
outcome short of full marks is a <failure>, a student who could not be graded an <error>."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from grader.gradebook import StoredCheck, StoredGrading
from grader.reporting.atomic import write_atomic
from grader.reporting.text import number, points

# Characters XML 1.0 cannot hold at all, even escaped; student text may contain them.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def _clean(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _testcase(suite: ET.Element, student: str, check: StoredCheck) -> bool:
    case = ET.SubElement(
        suite,
        "testcase",
        name=_clean(check.test_id),
        classname=_clean(f"{student}.{check.problem.value}"),
    )
    case.set("time", "0")
    if check.full_marks:
        return False
    failure = ET.SubElement(
        case,
        "failure",
        message=_clean(
            f"{check.status.value}: {points(check.score, missing='pending')} of "
            f"{number(check.max_score)}" + (f" ({check.mistake})" if check.mistake else "")
        ),
        type=check.outcome.value,
    )
    failure.text = _clean(check.feedback)
    return True


def render_junit(gradings: Sequence[StoredGrading], name: str = "grader") -> str:
    root = ET.Element("testsuites", name=_clean(name))
    tests = failures = errors = 0
    for g in sorted(gradings, key=lambda g: g.student):
        suite = ET.SubElement(root, "testsuite", name=_clean(g.student))
        if g.error is not None:
            case = ET.SubElement(suite, "testcase", name="grading", classname=_clean(g.student))
            error = ET.SubElement(case, "error", message="could not be graded", type="error")
            error.text = _clean(g.error)
            counts = (1, 0, 1)
        else:
            failed = sum(_testcase(suite, g.student, c) for c in g.checks)
            counts = (len(g.checks), failed, 0)
        for key, value in zip(("tests", "failures", "errors"), counts, strict=True):
            suite.set(key, str(value))
        suite.set("time", "0")
        tests, failures, errors = tests + counts[0], failures + counts[1], errors + counts[2]
    root.set("tests", str(tests))
    root.set("failures", str(failures))
    root.set("errors", str(errors))
    ET.indent(root)
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def write_junit(path: Path, gradings: Sequence[StoredGrading], name: str = "grader") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, render_junit(gradings, name))
    return path
