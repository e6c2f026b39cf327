"""What the catalogues still need, and filling it in, as plain JSON (after `make messages`).

    .venv/bin/python -m devstack.translations todo fr > fr-todo.json    # untranslated or fuzzy
    .venv/bin/python -m devstack.translations apply fr fr-todo.json     # after filling in the values

`todo` prints {msgid: ""} for every message of the language's catalogue that is empty or fuzzy
(a plural message is keyed "singular|||plural" and takes "one|||other" likewise; a fuzzy one shows
its current, unreviewed translation as the value). `apply` writes the filled values into the .po
file and clears their fuzzy mark; it refuses a value that drops a placeholder of its message.
Nothing else in the .po file changes, so a translator's review stays a small diff.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import read_po, write_po

from portal.branding.catalogues import placeholders
from portal.settings.languages import TRANSLATIONS

SEPARATOR = "|||"


def catalogue_path(code: str) -> Path:
    return TRANSLATIONS / code / "LC_MESSAGES" / "messages.po"


def _read(code: str) -> Catalog:
    with catalogue_path(code).open("rb") as handle:
        return read_po(handle, locale=code)


def _key(message: Message) -> str:
    return SEPARATOR.join(message.id) if isinstance(message.id, tuple) else message.id


def _strings(message: Message) -> tuple[str, ...]:
    return message.string if isinstance(message.string, tuple) else (message.string,)


def todo(code: str) -> dict[str, str]:
    """msgid -> "" (or the fuzzy translation to review) for what the catalogue still needs."""
    return {_key(m): "" if not m.fuzzy else SEPARATOR.join(_strings(m)[:2])
            for m in _read(code) if m.id and (m.fuzzy or not all(_strings(m)))}


def apply(code: str, filled: dict[str, str]) -> list[str]:
    """Write the non-empty values of `filled` into the catalogue; the problems (nothing is written then)."""
    catalog = _read(code)
    by_key = {_key(m): m for m in catalog if m.id}
    problems: list[str] = []
    for key, text in filled.items():
        message = by_key.get(key)
        if message is None or not text.strip():
            problems += [f"{key!r}: not a message of the catalogue"] if message is None else []
            continue
        sources = key.split(SEPARATOR)
        texts = text.split(SEPARATOR)
        if len(texts) != len(sources):
            problems.append(f"{key!r}: give {len(sources)} forms separated by {SEPARATOR}")
            continue
        wanted = set().union(*map(placeholders, sources))
        if any(placeholders(t) != wanted for t in texts):
            problems.append(f"{key!r}: keep the placeholders {sorted(wanted)}")
            continue
        message.string = (texts[0], *[texts[-1]] * (catalog.num_plurals - 1)) if len(texts) > 1 else texts[0]
        message.flags.discard("fuzzy")
        message.previous_id = []
        # babel reads pybabel's "#| msgid" lines back as user comments starting with "|": the text
        # is translated now, so the previous msgid they hold is stale
        message.user_comments = [c for c in message.user_comments if not c.startswith("|")]
    if not problems:
        with catalogue_path(code).open("wb") as handle:
            write_po(handle, catalog, include_previous=True)
    return problems


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "todo":
        print(json.dumps(todo(argv[1]), ensure_ascii=False, indent=1))
        return 0
    if len(argv) == 3 and argv[0] == "apply":
        problems = apply(argv[1], json.loads(Path(argv[2]).read_text(encoding="utf-8")))
        print("\n".join(problems) or f"{catalogue_path(argv[1])} updated")
        return 1 if problems else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
