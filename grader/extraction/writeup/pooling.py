"""P2: the average-pooling filter family read from formulas and words.

Form: "groups"/"depthwise"/C x 1 x k x k -> depthwise; C x C x k x k, w_{c,c'}, c != c' or a
"c-th component" layout -> full; otherwise the per-channel reading (depthwise). Value: the
scalar times the ones (1/k^2, 1/k) or "1" when only ones are written. Stride and padding
from words; when not stated, conv2d's defaults (1 and 0) with a note.
"""

from __future__ import annotations

import re

from grader.extraction.writeup.budget import Budget
from grader.extraction.writeup.sections import Section
from grader.extraction.writeup.shared import Found, has_content, whole_source
from grader.extraction.writeup.text_tools import plain, squeeze
from grader.models import (
    SINGLE_ANSWER_KEY,
    PoolingAnswer,
    PoolingForm,
    ProblemId,
    Source,
    Unreadable,
)

KEY = SINGLE_ANSWER_KEY[ProblemId.P2]
ONE_OVER_K2 = "\\frac{1}{k^2}"
ONE_OVER_K = "\\frac{1}{k}"

_X = r"(?:\\times|\\cdot|\u00d7|x|\*|,)"
_K2 = re.compile(
    r"\\[tdc]?frac\{?1\}?\{?k\^\{?2\}?\}?"
    r"|\\[tdc]?frac\{?1\}?\{k" + _X + r"k\}"
    r"|\\[tdc]?frac\{?1\}?\{?k\}?\^\{?2\}?"
    r"|k\^\{?-2\}?"
    r"|1/\(?k\^\{?2\}?\)?"
    r"|1/\(k" + _X + r"k\)"
    r"|1/k/k"
    r"|\\left\(\\frac\{1\}\{k\}\\right\)\^\{?2\}?"
)
_K1 = re.compile(r"\\[tdc]?frac\{?1\}?\{?k\}?(?![\^\w{])|1/k(?![\^\w(*/\\{])|k\^\{?-1\}?")
_ONES = re.compile(
    r"\\mathbf\{?1\}?|\\mathbb\{?1\}?|\\mathbf\{?J\}?|\\mathbb\{?J\}?|\\mathbf\{?e\}?|=1(?![\d.,])"
)
_ONES_WORDS = re.compile(
    r"\bones\b|all[- ]ones|all (?:entries |weights )?(?:are |equal to |equal )?1\b|"
    r"entries (?:are |equal to |of )?1\b|matrix of 1s",
    re.IGNORECASE,
)
_FULL_SHAPE = re.compile(r"C" + _X + r"C" + _X + r"k" + _X + r"k")
_DEPTHWISE_SHAPE = re.compile(r"C" + _X + r"(?:1" + _X + r")?k" + _X + r"k")
_OFF_DIAGONAL = re.compile(
    r"c\\neq?c'|c'\\neq?c|c\\neq?c\^\{?\\prime|c\\ne?q?c_?\{?2|c_?\{?1\}?\\neq?c|"
    r"\\delta_?\{?cc'|\\delta_?\{?c,c'|\\underbrace|-?th(?:component|channel|entry|position)|"
    r"c'|c\^\{?\\prime|\\cdots,?0|0,?\\cdots"
)
_ZERO_ELSEWHERE = re.compile(
    r"=0|zero|\\delta|\\cdots,?0|0,?\\cdots|0,\\dots|\\dots,0|"
    r"\\underbrace|component|otherwise|else0"
)
_STRONG_DEPTHWISE = re.compile(r"groups?\b|depth-?wise|channel-?wise|per[- ]channel", re.IGNORECASE)
_STRIDE = re.compile(
    r"stride(?:s)?\s*(?:size\s*)?(?:(?:of|=|:|is|equal to|equals|s\s*=)\s*){0,3}"
    r"(\(\s*k\s*,\s*k\s*\)|\(\s*\d+\s*,\s*\d+\s*\)|the kernel size|kernel size|k\b|\d+)",
    re.IGNORECASE,
)
_S_EQ = re.compile(r"\bs\s*=\s*(k\b|\d+)")
_PAD_NONE = re.compile(
    r"(?:no|without|zero|not? use any|not? need|not? any)\s+(?:zero[- ])?padding|padding\s*"
    r"(?:of|=|:|is|equal to)?\s*(?:0\b|zero|none|valid)|\bvalid\b|0 padding",
    re.IGNORECASE,
)
_PAD_VALUE = re.compile(
    r"padding\s*(?:of|=|:|is|equal to|p\s*=)?\s*(\d+|k\s*-\s*1|k|\(\s*\d+\s*,\s*\d+\s*\))|"
    r"pad(?:ded)?\s*(?:by|with)\s*(\d+|k)",
    re.IGNORECASE,
)


def _value(squeezed: str, words: str) -> str | None:
    if _K2.search(squeezed):
        return ONE_OVER_K2
    if _K1.search(squeezed):
        return ONE_OVER_K
    if _ONES.search(squeezed) or _ONES_WORDS.search(words):
        return "1"
    return None


def _form(squeezed: str, words: str) -> PoolingForm:
    if _STRONG_DEPTHWISE.search(words) or (
        _DEPTHWISE_SHAPE.search(squeezed) and not _FULL_SHAPE.search(squeezed)
    ):
        return PoolingForm.DEPTHWISE  # a grouped / per-channel weight
    if _FULL_SHAPE.search(squeezed) or _OFF_DIAGONAL.search(squeezed):
        return PoolingForm.FULL  # a C x C x k x k weight
    return PoolingForm.DEPTHWISE  # no channel mixing written


def _stride(words: str, squeezed: str) -> str | None:
    m = _STRIDE.search(words)
    if m:
        got = m.group(1).lower().replace(" ", "")
        if got in ("(k,k)", "thekernelsize", "kernelsize", "k"):
            return "k"
        nums = re.findall(r"\d+", got)
        return nums[0] if nums else got
    s = _S_EQ.search(squeezed)
    if s:
        return s.group(1)
    if re.search(r"non-?overlapping", words, re.IGNORECASE):
        return "k"
    return None


def _padding(words: str) -> str | None:
    if _PAD_NONE.search(words):
        return "0"
    m = _PAD_VALUE.search(words)
    if m:
        got = (m.group(1) or m.group(2)).replace(" ", "")
        nums = re.findall(r"\d+", got)
        return nums[0] if got.startswith("(") and nums else got
    return None


def read_p2(sections: list[Section], budget: Budget) -> tuple[list[Found], list[str]]:
    if not has_content(sections):
        return [], []
    budget.check()
    text = "\n".join(s.text for s in sections)
    squeezed = squeeze(text)
    words = plain(text)
    source: Source = whole_source(sections[0])
    value = _value(squeezed, words)
    if value is None:
        return [Found(KEY, Unreadable("no filter value (1/k^2, ones, ...) found"), source)], []
    notes: list[str] = []
    form = _form(squeezed, words)
    off = "0"
    if form is PoolingForm.FULL and not _ZERO_ELSEWHERE.search(squeezed.lower()):
        off = value  # a C x C x k x k weight with one value everywhere mixes channels
    stride = _stride(words, squeezed)
    if stride is None:
        stride = "1"
        notes.append("P2: no stride stated; read as conv2d's default stride 1")
    padding = _padding(words)
    if padding is None:
        padding = "0"
        notes.append("P2: no padding stated; read as conv2d's default padding 0")
    return [Found(KEY, PoolingAnswer(form, value, off, stride, padding), source)], notes
