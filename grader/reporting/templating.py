"""The two jinja2 environments: HTML autoescaped by jinja2, Markdown escaped by our finalize.

Both escape by default, so a template that forgets a filter still cannot let a student's
text turn into markup.
"""

from __future__ import annotations

import re
from functools import cache

import jinja2

from grader.reporting import text


def points_or_dash(x: float | None) -> str:
    """The `points_or_dash` filter: a dash where there is no score yet (no student graded)."""
    return text.points(x, missing="–")


_FILTERS = {
    "number": text.number,
    "points_or_dash": points_or_dash,
    "check_score": text.check_score,
    "check_score_of_max": text.check_score_of_max,
    "problem_total": text.problem_total,
    "outcome_label": text.outcome_label,
}


@cache
def html_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("grader", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(_FILTERS)
    return env


class Markdown(str):
    """Text already escaped for Markdown: printed as is."""


# Characters with inline meaning in GitHub Markdown (emphasis, links, code, tables, math,
# strikethrough, headings); a backslash makes each one literal.
_MD_PUNCT = re.compile(r"([\\`*_\[\]|~#$])")
_ORDERED_ITEM = re.compile(r"\d+(?=[.)](?:\s|$))")


def _guard_block_start(s: str) -> str:
    """A leading "-", "+" or "1." would start a list or underline a heading."""
    if s.startswith(("-", "+", "=")):
        return "\\" + s
    m = _ORDERED_ITEM.match(s)
    return s[: m.end()] + "\\" + s[m.end() :] if m else s


def md_inline(value: object) -> Markdown:
    """One line of literal text: safe in a paragraph, a list item or a table cell."""
    s = str(value).strip()
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    s = _MD_PUNCT.sub(r"\\\1", s)
    s = _guard_block_start(s)
    s = re.sub(r"\r\n|\r|\n", "<br>", s)
    return Markdown(s)


def _longest_backtick_run(s: str) -> int:
    return max((len(run) for run in re.findall(r"`+", s)), default=0)


def md_code_span(value: object) -> Markdown:
    """Short literal text in a code span; the fence is longer than any backtick run inside."""
    s = re.sub(r"\s*[\r\n]+\s*", " ", str(value))
    fence = "`" * (_longest_backtick_run(s) + 1)
    pad = " " if s.startswith(("`", " ")) or s.endswith(("`", " ")) else ""
    return Markdown(f"{fence}{pad}{s}{pad}{fence}")


def md_code_block(value: object) -> Markdown:
    """Literal multi-line text in a fenced block; nothing inside a fence is interpreted."""
    s = str(value).replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    fence = "`" * max(3, _longest_backtick_run(s) + 1)
    return Markdown(f"{fence}text\n{s}\n{fence}")


def _md_finalize(value: object) -> str:
    return value if isinstance(value, Markdown) else md_inline(value)


@cache
def markdown_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("grader", "templates"),
        autoescape=False,
        finalize=_md_finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(_FILTERS)
    env.filters["code_span"] = md_code_span
    env.filters["code_block"] = md_code_block
    env.filters["md"] = md_inline
    return env
