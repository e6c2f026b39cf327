"""Markdown from theme files, rendered once and sanitized: IT edits texts, not HTML or script."""
from __future__ import annotations

import functools

import markdown as md
import nh3
from markupsafe import Markup

ALLOWED_TAGS = {"p", "br", "strong", "em", "b", "i", "a", "ul", "ol", "li", "code", "h2", "h3", "h4", "blockquote"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


@functools.lru_cache(maxsize=256)  # theme texts are few and fixed: render each once
def render(text: str) -> Markup:
    html = md.markdown(text, extensions=[], output_format="html")
    clean = nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                      url_schemes={"https", "http", "mailto", "tel"}, link_rel="noopener noreferrer")
    return Markup(clean)  # noqa: S704 - sanitized by nh3 just above
