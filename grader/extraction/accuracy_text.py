"""Reading a claimed accuracy from text ("1897/1991 (95.28%)" and the other ways students
print it). Shared by the answers.toml reader and the write-up reader; the checks judge it."""

from __future__ import annotations

import re

from grader.models import AccuracyClaim

_NUMBER = r"(\d+(?:\.\d+)?)"
# Public so the write-up reader locates claims with the very patterns that read them.
FRACTION = re.compile(r"\\[dt]?frac\s*\{\s*(\d+)\s*\}\s*\{\s*(\d+)\s*\}")
RATIO = re.compile(r"(?<![\d.])(\d+)\s*(?:/|out\s+of\b|of\b)\s*(\d+)(?![\d.])")
# "95.28%", "95.28\%", "95.28 \,\%", "(95.28)%", "95.28 percent"
PERCENT = re.compile(_NUMBER + r"\s*\)?\s*(?:\\[,;! ]\s*)*(?:\\%|%|percent\b)")
# After a count, a bare number in parentheses or after = / \approx is the percent.
_AFTER_COUNT = re.compile(r"^\s*(?:\(\s*" + _NUMBER + r"\s*\)|(?:=|\\approx|≈)\s*" + _NUMBER + ")")


def parse_accuracy_claim(text: str) -> AccuracyClaim | None:
    """Read one claimed accuracy: "1897/1991 (95.28%)", "1897/1991(95.28)%",
    "\\frac{1897}{1991} \\approx 95.28\\%", "95.28\\% (1897 of 1991)", "1893/1991 = 95.08\\%",
    or a bare "95.28%". None when the text holds neither a count nor a percent."""
    count = FRACTION.search(text) or RATIO.search(text)
    correct = total = None
    rest = text
    if count is not None:
        correct, total = int(count.group(1)), int(count.group(2))
        rest = text[: count.start()] + " " * (count.end() - count.start()) + text[count.end() :]
    percent_text = None
    found = PERCENT.search(rest)
    if found is not None:
        percent_text = found.group(1)
    elif count is not None:
        after = _AFTER_COUNT.match(text[count.end() :])
        if after is not None:
            candidate = after.group(1) or after.group(2)
            if 0.0 <= float(candidate) <= 100.0:
                percent_text = candidate
    if count is None and percent_text is None:
        return None
    percent = float(percent_text) if percent_text is not None else None
    return AccuracyClaim(correct, total, percent, percent_text)
