"""P1 and P3: filters written as numbers (matrices, lists of matrices, tuples, assignments).

P1: the answer is the last list of two matrices, or else the last matrices labelled w_1 and
w_2, or else the last two matrices of the section. P3: the last array or set of three
w_{c,...} = x assignments, or else a 0.299R + 0.587G + 0.114B form mapped to R, G, B.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from grader.extraction.writeup.budget import Budget
from grader.extraction.writeup.latex_bridge import read_array
from grader.extraction.writeup.sections import Section
from grader.extraction.writeup.shared import Found, has_content, math_spans, whole_source
from grader.extraction.writeup.text_tools import plain, split_top
from grader.models import SINGLE_ANSWER_KEY, Array, FilterAnswer, ProblemId, Source, Unreadable
from grader.reference import array_from_nested

P1_KEY = SINGLE_ANSWER_KEY[ProblemId.P1]
P3_KEY = SINGLE_ANSWER_KEY[ProblemId.P3]
_MATRIX = re.compile(
    r"\\begin\{(pmatrix|bmatrix|Bmatrix|vmatrix|Vmatrix|matrix|smallmatrix|array)\}"
)
_LABEL = re.compile(
    r"(?:[wWKkFfH]|\\mathbf\{[wW]\})\s*(?:_|\^)\s*\{?\s*\(?\s*([12])\s*\)?\s*\}?\s*=?\s*$"
)
_PLAIN_LIST = re.compile(r"[\[\]\d\s.,+-]+")


@dataclass(frozen=True)
class _Item:
    start: int  # offset in the section text
    end: int
    text: str
    label: int | None
    is_list: bool


def _matrices(section: Section, budget: Budget) -> list[_Item]:
    items: list[_Item] = []
    for span in math_spans(section):
        budget.check()
        body = span.body
        # A whole list of matrices on the last side of "w = ...": read as one answer.
        last_off, last = split_top(body, ("=",))[-1]
        stripped = last.strip().rstrip(".,;")
        if len(_MATRIX.findall(stripped)) >= 2 and stripped[:1] in "([\\":
            lead = len(last) - len(last.lstrip())
            s = span.start + last_off + lead
            if stripped.startswith(("\\left", "(", "[", "\\big", "\\Big", "\\{")):
                items.append(_Item(s, s + len(stripped), stripped, None, True))
                continue
        prev_end = 0
        for m in _MATRIX.finditer(body):
            if m.start() < prev_end:
                continue
            closer = "\\end{" + m.group(1) + "}"
            close = body.find(closer, m.end())
            if close < 0:
                continue
            end = close + len(closer)
            label_m = _LABEL.search(body[max(prev_end, m.start() - 40) : m.start()])
            label = int(label_m.group(1)) if label_m else None
            items.append(
                _Item(span.start + m.start(), span.start + end, body[m.start() : end], label, False)
            )
            prev_end = end
    items.extend(_plain_lists(section))
    return sorted(items, key=lambda it: it.start)


def _plain_lists(section: Section) -> list[_Item]:
    """Python-style nested lists typed as text: [[0,0,0],[0,-1,0],[0,1,0]]."""
    out: list[_Item] = []
    text = section.text
    i = text.find("[[")
    while 0 <= i < len(text):
        depth, j = 0, i
        while j < len(text) and j - i < 2000:
            if text[j] == "[":
                depth += 1
            elif text[j] == "]":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if depth == 0 and j < len(text):
            back = i - 1
            while back >= 0 and text[back] in " \t\n":
                back -= 1
            if back >= 0 and text[back] == "[":
                i = back  # the list starts one bracket earlier: [ [[...]], [[...]] ]
                continue
            out.append(_Item(i, j + 1, text[i : j + 1], None, True))
            i = text.find("[[", j + 1)
        else:
            break
    return [it for it in out if _PLAIN_LIST.fullmatch(it.text)]


def _read(item: _Item) -> Array | str:
    if item.text.startswith("[") and _PLAIN_LIST.fullmatch(item.text):
        try:
            return array_from_nested(ast.literal_eval(item.text))
        except (ValueError, SyntaxError, RecursionError, MemoryError) as exc:
            return f"not a list of numbers ({exc})"
    return read_array(item.text)


def _span_start(section: Section, offset: int) -> int:
    """Start the source at its math span, so "w_1 = " is shown with the matrix."""
    for span in math_spans(section):
        if span.start <= offset <= span.end:
            return span.start
    return offset


def _stack(arrays: list[Array]) -> Array | str:
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        return "the matrices have different sizes: " + ", ".join(a.shape_text for a in arrays)
    return Array((len(arrays), *arrays[0].shape), tuple(x for a in arrays for x in a.values))


def _p1_choice(items: list[_Item]) -> list[_Item]:
    if items and items[-1].is_list:
        return [items[-1]]
    singles = [it for it in items if not it.is_list]
    ones = [it for it in singles if it.label == 1]
    twos = [it for it in singles if it.label == 2]
    if ones and twos:
        return [ones[-1], twos[-1]]
    return singles[-2:]


def read_p1(sections: list[Section], budget: Budget) -> list[Found]:
    items = [(s, it) for s in sections for it in _matrices(s, budget)]
    if not items:
        if not has_content(sections):
            return []
        return [
            Found(P1_KEY, Unreadable("no matrix found in the answer"), whole_source(sections[-1]))
        ]
    chosen_items = _p1_choice([it for _, it in items])
    chosen = [(s, it) for c in chosen_items for s, it in items if it is c]
    section = chosen[0][0]
    first = min(it.start for s, it in chosen if s is section)
    last = max(it.end for s, it in chosen if s is section)
    source = section.source(_span_start(section, first), last)
    arrays: list[Array] = []
    for _, it in chosen:
        got = _read(it)
        if isinstance(got, str):
            return [Found(P1_KEY, Unreadable(got), source)]
        arrays.append(got)
    if len(arrays) == 1:
        return [Found(P1_KEY, FilterAnswer(arrays[0]), source)]
    stacked = _stack(arrays)
    value = Unreadable(stacked) if isinstance(stacked, str) else FilterAnswer(stacked)
    return [Found(P1_KEY, value, source)]


# --- P3 --------------------------------------------------------------------------------

_NUM = r"(?<![\d.])(-?(?:\d+\.\d*|\.\d+|\d+))"  # anchored: no quadratic rescans
_ASSIGN = re.compile(
    r"[wW]\s*(?:_\s*\{([^{}=]{1,24})\}|_\s*([0-9RGBrgb])|\[([^\[\]=]{1,24})\])\s*=\s*" + _NUM
)
_LETTER = re.compile(
    _NUM + r"\s*(?:\\cdot|\\times|\*|\u00d7|\u00b7)?\s*(?:\\(?:text|mathrm|mathbf|mathit)\s*\{\s*)?"
    r"([RGB])(?![a-zA-Z])"
)
_THREE_OUT = re.compile(
    r"3\s*(?:\\times|\u00d7|x|,)\s*1\s*(?:\\times|\u00d7|x|,)\s*1\s*(?:\\times|\u00d7|x|,)\s*1"
    r"|(?:three|3) output channels",
    re.IGNORECASE,
)
_CHANNEL_OF_LETTER = {"r": 0, "g": 1, "b": 2}


@dataclass(frozen=True)
class _Candidate:
    start: int
    end: int
    weights: Array | str
    section: Section


def _channel(index_text: str) -> tuple[int, bool] | None:
    """(channel, zero_based_hint) from index text like "1,1,1", "2", "R", "0,2,0,0"."""
    parts = [p.strip() for p in index_text.split(",") if p.strip()]
    if len(parts) == 1 and parts[0].lower() in _CHANNEL_OF_LETTER:
        return _CHANNEL_OF_LETTER[parts[0].lower()] + 1, False  # as 1-based indices
    if not parts or not all(p.isdigit() for p in parts):
        return None
    nums = [int(p) for p in parts]
    idx = nums[1] if len(nums) == 4 else nums[0]
    return idx, min(nums) == 0


def _assignments(section: Section) -> list[_Candidate]:
    found: list[tuple[int, int, int, float, bool]] = []
    for m in _ASSIGN.finditer(section.text):
        ch = _channel(m.group(1) or m.group(2) or m.group(3))
        if ch is not None:
            found.append((m.start(), m.end(), ch[0], float(m.group(4).replace(" ", "")), ch[1]))
    out: list[_Candidate] = []
    k = 0
    while k + 3 <= len(found):
        group = found[k : k + 3]
        zero = any(g[4] for g in group)
        chans = [g[2] - (0 if zero else 1) for g in group]
        if sorted(chans) == [0, 1, 2]:
            weights = [0.0, 0.0, 0.0]
            for g, c in zip(group, chans, strict=True):
                weights[c] = g[3]
            out.append(_Candidate(group[0][0], group[2][1], Array((3,), tuple(weights)), section))
            k += 3
        else:
            k += 1
    return out


def _letters(section: Section) -> list[_Candidate]:
    hits = list(_LETTER.finditer(section.text))
    out: list[_Candidate] = []
    for k in range(len(hits) - 2):
        group = hits[k : k + 3]
        if {h.group(2) for h in group} == {"R", "G", "B"} and group[2].start() - group[
            0
        ].end() < 120:
            weights = [0.0, 0.0, 0.0]
            for h in group:
                weights[_CHANNEL_OF_LETTER[h.group(2).lower()]] = float(h.group(1).replace(" ", ""))
            out.append(
                _Candidate(group[0].start(), group[2].end(), Array((3,), tuple(weights)), section)
            )
    return out


def _arrays(section: Section, budget: Budget) -> list[_Candidate]:
    out: list[_Candidate] = []
    for span in math_spans(section):
        budget.check()
        off, last = split_top(span.body, ("=",))[-1]
        text = last.strip().rstrip(".,;").strip()
        if not text or not (
            text[0] in "([" or text.startswith(("\\left", "\\begin", "\\big", "\\Big"))
        ):
            continue
        start = span.start + off + (len(last) - len(last.lstrip()))
        out.append(_Candidate(start, start + len(text), read_array(text), section))
    for it in _plain_lists(section):
        out.append(_Candidate(it.start, it.end, _read(it), section))
    plain_tuple = re.compile(r"\(\s*" + _NUM + r"\s*,\s*" + _NUM + r"\s*,\s*" + _NUM + r"\s*\)")
    spans = [(s.start, s.end) for s in math_spans(section)]
    for m in plain_tuple.finditer(section.text):
        if not any(a <= m.start() < b for a, b in spans):  # prose tuple, outside math
            vals = tuple(float(g.replace(" ", "")) for g in m.groups())
            out.append(_Candidate(m.start(), m.end(), Array((3,), vals), section))
    return out


def _as_triple(weights: Array, section: Section) -> Array:
    if weights.shape == (3, 1, 1, 1) or _THREE_OUT.search(plain(section.text)):
        if len(weights.values) == 3:
            return Array((3, 1, 1, 1), weights.values)
    if len(weights.values) == 3:
        return Array((3,), weights.values)
    return weights


def _source(c: _Candidate) -> Source:
    return c.section.source(c.start, c.end)


def _found(best: _Candidate) -> Found:
    if isinstance(best.weights, str):
        return Found(P3_KEY, Unreadable(best.weights), _source(best))
    return Found(P3_KEY, FilterAnswer(_as_triple(best.weights, best.section)), _source(best))


def read_p3(sections: list[Section], budget: Budget) -> list[Found]:
    """Explicit weights (arrays, assignments) win; a 0.299R + ... form is the fallback, as
    the problem statement's own formula is often restated before the answer."""
    arrays = [c for s in sections for c in _arrays(s, budget)]
    assigned = [c for s in sections for c in _assignments(s)]
    explicit = sorted(
        [c for c in arrays if isinstance(c.weights, Array) and len(c.weights.values) == 3]
        + assigned,
        key=lambda c: (sections.index(c.section), c.start),
    )
    letters = [c for s in sections for c in _letters(s)]
    for pool in (explicit, letters, arrays):
        if pool:
            return [_found(pool[-1])]
    if not has_content(sections):
        return []
    return [Found(P3_KEY, Unreadable("no filter weights found"), whole_source(sections[-1]))]
