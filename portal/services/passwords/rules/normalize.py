"""The forms of a password that are compared with word lists: "P@ssw0rd1!" must count as "password".

People dress up a weak word with capitals, look-alike symbols and a number at the end; attackers'
guessing rules undo exactly that, so the lists are matched against every undressed form. Some
symbols stand for two letters ("1" is "i" or "l"), so both readings are tried.
"""
from __future__ import annotations

import re
import unicodedata

# One reading per table; characters not listed stay as they are.
_SUBSTITUTIONS = (
    str.maketrans({"@": "a", "4": "a", "8": "b", "(": "c", "3": "e", "6": "g", "9": "g", "#": "h",
                   "1": "i", "!": "i", "|": "i", "0": "o", "$": "s", "5": "s", "7": "t", "+": "t",
                   "2": "z"}),
    str.maketrans({"@": "a", "4": "a", "3": "e", "1": "l", "!": "l", "|": "l", "0": "o", "$": "s",
                   "5": "s", "7": "t", "+": "t"}),
)
_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_SEPARATORS = re.compile(r"[\s._\-]+")


def fold(text: str) -> str:
    """Unicode compatibility form, case-folded, accents removed: "Pässwörd" and "passwörd" meet."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text).casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def variants(password: str) -> set[str]:
    """Every undressed form of `password`: as typed, without separators, without the decoration at
    its ends, each also with look-alike symbols read as letters."""
    folded = fold(password)
    bases = {folded, _SEPARATORS.sub("", folded)}
    bases |= {_EDGES.sub("", base) for base in list(bases)}
    forms = set(bases)
    for table in _SUBSTITUTIONS:
        for base in bases:
            mapped = base.translate(table)
            forms |= {mapped, _EDGES.sub("", mapped)}
    forms.discard("")
    return forms


def words_of(text: str, min_length: int = 3) -> set[str]:
    """The parts of a name, login or address worth refusing in a password ("Ann-Marie O'Neil",
    "ann.oneil@contoso.com"): folded, split at anything that is not a letter or digit."""
    return {part for part in re.split(r"[\W_]+", fold(text)) if len(part) >= min_length}
