"""Every text a template shows goes through the catalogue: none is left in the markup itself.

Read from each template's Jinja syntax tree: the literal markup between tags and expressions
(`TemplateData`) may hold HTML, punctuation and spacing, never words; the same for the attributes
people read or hear (alt, title, placeholder, aria-label, value). What `_()` or `{% trans %}`
wraps is an expression, not markup, so it is not looked at here (tests/i18n/test_catalogues.py
checks that each is in every catalogue)."""
from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_FOLDERS = [ROOT / "portal" / "templates", *sorted((ROOT / "branding").glob("*/templates"))]
TEMPLATES = sorted(p for folder in TEMPLATE_FOLDERS for p in folder.rglob("*") if p.suffix in (".html", ".txt"))
READ_ATTRIBUTES = {"alt", "title", "placeholder", "aria-label", "value", "label", "content"}
EXPRESSION = "\x00"  # stands for what an expression prints: not text of the template itself
WORD = re.compile(r"[^\W\d_]{2,}")  # two letters in a row: a word (not "x", not a unit-less number)
NOT_WORDS = {"nbsp", "middot", "ndash", "mdash", "rarr", "larr", "hellip", "amp", "gt", "lt", "quot", "copy"}  # entities
# content="..." of these <meta> names holds settings for the browser, not text
MACHINE_META = ("width=device-width", "noindex")


class TextCollector(HTMLParser):
    """The text nodes and read-out attributes of (a template's literal) HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.texts: list[str] = []
        self.raw = 0  # inside <script>/<style>: not text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.raw += tag in ("script", "style")
        self.texts += [v for k, v in attrs if k in READ_ATTRIBUTES and v and not v.startswith(MACHINE_META)
                       and not (tag == "input" and k == "value")]

    def handle_endtag(self, tag: str) -> None:
        self.raw -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self.raw:
            self.texts.append(data)


def literal_markup(path: Path) -> str:
    """The template's own markup in document order, each printed expression as EXPRESSION."""
    env = ImmutableSandboxedEnvironment(extensions=["jinja2.ext.i18n"])
    tree = env.parse(path.read_text(encoding="utf-8"))
    parts: list[str] = []
    for output in tree.find_all(nodes.Output):
        parts += [n.data if isinstance(n, nodes.TemplateData) else EXPRESSION for n in output.nodes]
    return "".join(parts)


def words_outside_catalogue(path: Path) -> list[str]:
    markup = literal_markup(path)
    if path.suffix == ".html":
        collector = TextCollector()
        collector.feed(markup)
        texts = collector.texts
    else:
        texts = [markup]
    found = [w for text in texts for w in WORD.findall(text.replace(EXPRESSION, " "))]
    return [w for w in found if w.lower() not in NOT_WORDS]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_template_shows_no_text_outside_the_catalogue(path: Path) -> None:
    assert words_outside_catalogue(path) == []


def test_the_check_finds_text_in_markup_and_in_read_out_attributes(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text('<p>{{ _("Fine") }} Hello</p><img alt="Logo" src="{{ x }}">'
                    '<input type="hidden" value="token"><p>&nbsp;&middot; {{ n }} %</p>')
    assert words_outside_catalogue(page) == ["Hello", "Logo"]
    mail = tmp_path / "mail.txt"
    mail.write_text('{{ _("Hello %(name)s,", name=name) }}\n\n-- \nRegards')
    assert words_outside_catalogue(mail) == ["Regards"]


def test_every_shipped_template_is_looked_at() -> None:
    assert len(TEMPLATES) > 60
    assert any("branding" in str(p) for p in TEMPLATES)
