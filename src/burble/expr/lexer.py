"""Reading the text: a cursor that matches keywords, literals and names.

Bubble's names contain spaces (`Rental Unit`, `Created Date`, `Air conditioning`), so the text
is not split into tokens up front: the parser asks the cursor for the longest of the names
that are valid at that point (the fields of the type on the left, the options of the set a
comparison expects, ...).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable

from burble.expr.errors import ExprError

_NUMBER = re.compile(r"(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?")
_WORD = re.compile(r"[^\s'’:,()]+")
APOSTROPHES = ("'s", "’s")


def _wordlike(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class Cursor:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    # --- position -------------------------------------------------------------------------

    def skip_ws(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def at_end(self) -> bool:
        self.skip_ws()
        return self.pos >= len(self.text)

    @property
    def column(self) -> int:
        """The 1-based column of the next non-blank character."""
        self.skip_ws()
        return self.pos + 1

    def error(self, message: str, column: int | None = None) -> ExprError:
        return ExprError(message, self.column if column is None else column, self.text)

    # --- matching -------------------------------------------------------------------------

    def _matches_at(self, word: str, pos: int) -> bool:
        end = pos + len(word)
        if self.text[pos:end] != word:
            return False
        # A name ending in a letter may not run on into the next letter (`price` ≠ `prices`).
        return not (_wordlike(word[-1]) and end < len(self.text) and _wordlike(self.text[end]))

    def peek(self, word: str) -> bool:
        self.skip_ws()
        return self._matches_at(word, self.pos)

    def accept(self, word: str) -> bool:
        """Consume `word` (a keyword, symbol or name) if it comes next."""
        if self.peek(word):
            self.pos += len(word)
            return True
        return False

    def accept_seq(self, *words: str) -> bool:
        """Consume a sequence of words separated by blanks (`is`, `not`, `in`) or nothing."""
        start = self.pos
        for word in words:
            if not self.accept(word):
                self.pos = start
                return False
        return True

    def longest(self, names: Iterable[str]) -> str | None:
        """Consume and return the longest of `names` that comes next."""
        self.skip_ws()
        best: str | None = None
        for name in names:
            if (
                name
                and (best is None or len(name) > len(best))
                and self._matches_at(name, self.pos)
            ):
                best = name
        if best is not None:
            self.pos += len(best)
        return best

    def expect(self, word: str, what: str | None = None) -> None:
        if not self.accept(word):
            raise self.error(f"expected {what or repr(word)}, found {self.describe_next()}")

    def number(self) -> float | None:
        self.skip_ws()
        m = _NUMBER.match(self.text, self.pos)
        if m is None or (m.end() < len(self.text) and _wordlike(self.text[m.end()])):
            return None
        self.pos = m.end()
        return float(m.group())

    def string(self) -> str | None:
        """A double-quoted text; `\\"` and `\\\\` escape a quote and a backslash."""
        self.skip_ws()
        if self.pos >= len(self.text) or self.text[self.pos] not in '"“”':
            return None
        start = self.pos
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.text[self.pos]
            if ch == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            self.pos += 1
            if ch in '"“”':
                return "".join(out)
            out.append(ch)
        raise self.error("this text has no closing quote", start + 1)

    def apostrophe(self) -> bool:
        """Consume `'s` (or `’s`), with or without a blank before it."""
        self.skip_ws()
        for form in APOSTROPHES:
            if self.text.startswith(form, self.pos):
                end = self.pos + len(form)
                if end >= len(self.text) or not _wordlike(self.text[end]):
                    self.pos = end
                    return True
        return False

    # --- messages -------------------------------------------------------------------------

    def next_words(self, count: int) -> str:
        """Up to `count` words of what comes next, for messages and suggestions."""
        self.skip_ws()
        words: list[str] = []
        pos = self.pos
        for _ in range(count):
            while pos < len(self.text) and self.text[pos] == " ":
                pos += 1
            m = _WORD.match(self.text, pos)
            if m is None:
                break
            words.append(m.group())
            pos = m.end()
        return " ".join(words)

    def describe_next(self) -> str:
        if self.at_end():
            return "the end of the expression"
        word = self.next_words(1) or self.text[self.pos]
        return f"'{word}'"


def suggest(cursor: Cursor, names: Iterable[str]) -> tuple[str, str]:
    """(what the text has, " (did you mean ...?)" or "") for an unknown name."""
    options = sorted(set(names))
    best: list[tuple[float, str]] = []
    found = cursor.next_words(1)
    for name in options:
        words = max(1, len(name.split()))
        candidate = cursor.next_words(words)
        score = difflib.SequenceMatcher(None, candidate.lower(), name.lower()).ratio()
        if score >= 0.6:
            best.append((score, name))
            if words > 1 and score > 0.8:
                found = candidate
    best.sort(key=lambda p: (-p[0], p[1]))
    hint = ""
    if best:
        if len(best) > 1 and best[1][0] == best[0][0]:
            hint = f" (did you mean '{best[0][1]}' or '{best[1][1]}'?)"
        else:
            hint = f" (did you mean '{best[0][1]}'?)"
    return found, hint
