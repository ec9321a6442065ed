"""How place names are compared: the one normalisation both the gazetteer and its queries use.

`normalize` folds case (``str.casefold``: "ß" -> "ss"), strips diacritics (Unicode NFKD, then
combining marks dropped: "Zürich" -> "zurich", "São Paulo" -> "sao paulo"), maps the Latin
letters NFKD does not decompose ("ø", "ł", "đ", "æ", "œ", "þ", "ð", "ı", "ħ", "ŧ", "ŀ") to
ASCII, turns every run of punctuation, apostrophes, hyphens and whitespace into one space, and
trims: "St. John's" -> "st john s", "Winston-Salem" -> "winston salem".

A name is indexed only when its normalised form is ASCII, so names written in other scripts
(Cyrillic, CJK, Arabic, ...) neither match nor cost memory.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["is_latin", "normalize", "strip_numbers"]

_MARKS = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]+")
_NON_WORD = re.compile(r"[\W_]+")
# Anything outside Basic Latin, Latin-1, Latin Extended A/B, IPA, spacing modifiers, combining
# marks, Latin Extended Additional and the dash/quote punctuation block.
_NON_LATIN = re.compile(r"[^\x00-\u036f\u1e00-\u1eff\u2010-\u201f]")
_LETTERS = str.maketrans(
    {
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "æ": "ae",
        "œ": "oe",
        "þ": "th",
        "ð": "d",
        "ı": "i",
        "ħ": "h",
        "ŧ": "t",
        "ŀ": "l",
        "ʻ": " ",  # okina, as in Nukuʻalofa
        "ʼ": " ",
        "ʿ": " ",
        "ʾ": " ",
    }
)


def normalize(text: str) -> str:
    """The comparison key of a place name (see the module docstring)."""
    s = text.casefold()
    if not s.isascii():
        s = _MARKS.sub("", unicodedata.normalize("NFKD", s)).translate(_LETTERS)
    if not s.replace(" ", "").isalnum() or "  " in s or s[:1] == " " or s[-1:] == " ":
        s = " ".join(_NON_WORD.sub(" ", s).split())
    return s


def is_latin(text: str) -> bool:
    """Cheap pre-check: True if `text` can normalise to an ASCII key (Latin script only)."""
    return text.isascii() or _NON_LATIN.search(text) is None


def strip_numbers(key: str) -> str:
    """A normalised key without its words that contain digits (house numbers, postcodes)."""
    return " ".join(word for word in key.split() if not any(c.isdigit() for c in word))
