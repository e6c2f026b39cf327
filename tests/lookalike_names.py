"""Names that look alike or fold together, and what each test directory makes of them.

Python's case fold with NFKC joins most pairs below (not the two "i" pairs); the directories
join fewer, and differently. Measured on the dev stack (slapd 2.5.13, Samba 4.17.12), and
pinned by the directory contract:

- OpenLDAP's caseIgnoreMatch folds case AND compatibility forms: "ǅemal", "Ǆemal" and "džemal"
  are one name, so are "ｆｕｌｌ"/"full", "ﬁx"/"fix", the Kelvin sign and "k", "ſ" and "s",
  "İ" and "i", and decomposed and composed "Å". It keeps "ß" apart from "ss" and "ı" from "i".
  It refuses a second `uid=` RDN it holds equal to an existing one.
- Samba compares sAMAccountName by case only (and not every case pair: titlecase "ǅ" is not
  "Ǆ"): every pair below is two names, and it refuses a second account whose name differs only
  by case. What Windows AD's own comparison does with these pairs only a Windows DC can confirm.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass

OPENLDAP = "openldap"
ACTIVE_DIRECTORY = "active_directory"


@dataclass(frozen=True)
class Pair:
    key: str
    first: str
    second: str
    one_name_in: frozenset[str] = frozenset()  # directory kinds whose matching makes them one name
    case_variants: bool = False  # they differ by case only: one name to a provider, case aside

    def names(self) -> tuple[str, str]:
        """Both names with one fresh suffix: a pair of their own for each test."""
        tag = uuid.uuid4().hex[:8]
        return f"{self.first}-{tag}", f"{self.second}-{tag}"

    def one_name(self, kind: str) -> bool:
        return kind in self.one_name_in


FOLDED_BY_OPENLDAP = frozenset({OPENLDAP})
SHARP_S = Pair("sharp-s", "straße", "strasse")
DOTLESS_I = Pair("dotless-i", "ıvan", "ivan")
PAIRS = (
    SHARP_S,
    DOTLESS_I,
    Pair("dotted-capital-i", "İvan", "ivan", FOLDED_BY_OPENLDAP),
    Pair("dz-digraph", "ǅemal", "džemal", FOLDED_BY_OPENLDAP),
    Pair("dz-titlecase-and-capital", "ǅemal", "Ǆemal", FOLDED_BY_OPENLDAP, case_variants=True),
    Pair("fullwidth", "ｆｕｌｌ", "full", FOLDED_BY_OPENLDAP),
    Pair("ligature", "ﬁx", "fix", FOLDED_BY_OPENLDAP),
    Pair("kelvin-sign", "\u212aelvin", "kelvin", FOLDED_BY_OPENLDAP),
    Pair("long-s", "ſam", "sam", FOLDED_BY_OPENLDAP),
    Pair("decomposed", "A\u030angstrom", "\u00c5ngstrom", FOLDED_BY_OPENLDAP),
)
# Two names in both directories: both accounts can exist side by side everywhere.
APART_EVERYWHERE = tuple(p for p in PAIRS if not p.one_name_in)


def pair_id(pair: Pair) -> str:
    return pair.key
