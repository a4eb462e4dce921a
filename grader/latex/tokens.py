"""Tokenizer for the LaTeX subset students type in formulas.

Tokens keep their 0-based column so every error can name where it happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from grader.latex.errors import LatexError

MAX_LENGTH = 4000  # longer "formulas" are not answers; refusing keeps parsing cheap


class Kind(Enum):
    NUMBER = "number"
    LETTER = "letter"  # one letter: juxtaposed letters are products (k k = k^2)
    WORD = "word"  # a known function name typed without a backslash ("diag", "sigma")
    COMMAND = "command"  # \name, or a control symbol such as \{ \, \\
    CHAR = "char"  # punctuation and operators: + - * / ^ _ ' ( ) [ ] { } , & | = ...
    END = "end"


@dataclass(frozen=True)
class Token:
    kind: Kind
    text: str  # commands keep their backslash; \ell stays "\ell" (the parser maps it)
    col: int

    def is_char(self, c: str) -> bool:
        return self.kind is Kind.CHAR and self.text == c

    def is_cmd(self, *names: str) -> bool:
        return self.kind is Kind.COMMAND and self.text in names


# Plain-text words read as one name instead of a product of letters.
WORDS = ("softplus", "sigma", "diag", "tanh", "exp", "log", "sin", "cos")

# Unicode that Markdown write-ups use in place of commands.
UNICODE = {
    "σ": "\\sigma",
    "ℓ": "\\ell",
    "⊙": "\\odot",
    "∘": "\\circ",
    "∂": "\\partial",
    "·": "\\cdot",
    "⋅": "\\cdot",
    "×": "\\times",
    "⊤": "\\top",
    "′": "'",
    "…": "\\ldots",
    "⋯": "\\cdots",
    "−": "-",
}

_CHARS = set("+-*/^_'()[]{},&|=<>!:;.~%")
# Control symbols: backslash followed by one non-letter.
_CONTROL = set(",;:! {}|\\%_&#$")


def tokenize(text: str) -> list[Token]:
    """Split `text` into tokens ending with an END token; raises LatexError."""
    if len(text) > MAX_LENGTH:
        raise LatexError(f"formula too long ({len(text)} characters, limit {MAX_LENGTH})", 0)
    out: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
        elif c in UNICODE:
            rep = UNICODE[c]
            kind = Kind.COMMAND if rep.startswith("\\") else Kind.CHAR
            out.append(Token(kind, rep, i))
            i += 1
        elif c == "\\":
            j = i + 1
            if j < n and text[j].isalpha() and text[j].isascii():
                while j < n and text[j].isalpha() and text[j].isascii():
                    j += 1
                out.append(Token(Kind.COMMAND, text[i:j], i))
                i = j
            elif j < n and text[j] in _CONTROL:
                out.append(Token(Kind.COMMAND, text[i : j + 1], i))
                i = j + 1
            else:
                raise LatexError("a backslash without a command", i)
        elif c.isdigit() or (c == "." and i + 1 < n and text[i + 1].isdigit()):
            j = i
            while j < n and text[j].isdigit():
                j += 1
            if j < n and text[j] == "." and j + 1 < n and text[j + 1].isdigit():
                j += 1
                while j < n and text[j].isdigit():
                    j += 1
            out.append(Token(Kind.NUMBER, text[i:j], i))
            i = j
        elif c.isascii() and c.isalpha():
            word = _word_at(text, i)
            if word:
                out.append(Token(Kind.WORD, word, i))
                i += len(word)
            else:
                out.append(Token(Kind.LETTER, c, i))
                i += 1
        elif c in _CHARS:
            out.append(Token(Kind.CHAR, c, i))
            i += 1
        else:
            raise LatexError(f"unexpected character {c!r}", i)
    out = _strip_trailing([t for t in out if not _is_spacing(t)])
    out.append(Token(Kind.END, "", n))
    return out


def _word_at(text: str, i: int) -> str | None:
    if i > 0 and text[i - 1].isascii() and text[i - 1].isalpha():
        return None  # inside a longer run of letters, e.g. a product "adiag" stays letters
    for w in WORDS:
        end = i + len(w)
        if text.startswith(w, i) and not (end < len(text) and text[end].isalpha()):
            return w
    return None


# Spacing and style commands change nothing in a formula's meaning: dropped before parsing.
_SPACING = (
    "\\,",
    "\\;",
    "\\:",
    "\\!",
    "\\ ",
    "\\quad",
    "\\qquad",
    "\\displaystyle",
    "\\textstyle",
    "\\scriptstyle",
    "\\limits",
    "\\nolimits",
    "\\nonumber",
    "\\notag",
    "\\hline",
)


def _is_spacing(t: Token) -> bool:
    return t.is_cmd(*_SPACING) or t.is_char("~")


def _strip_trailing(tokens: list[Token]) -> list[Token]:
    """Drop sentence punctuation after a formula: "A_L ." reads as "A_L"."""
    end = len(tokens)
    while end > 0:
        t = tokens[end - 1]
        if t.kind is Kind.CHAR and t.text in ",.;":
            end -= 1
        else:
            break
    return tokens[:end]
