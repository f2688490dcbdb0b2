"""Text from directory feeds: HTML to plain text (links kept), entities, whitespace, dates."""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from loaders.dates import parse_date
from loaders.limits import CONTROL, STRIP_FROM_TEXT, SUSPICIOUS

_TAG_RE = re.compile(r"</?[a-zA-Z][a-zA-Z0-9]*(\s[^<>]*)?/?>")
_ENTITY_RE = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]{1,31});")
_BLOCK_TAGS = frozenset({"p", "div", "section", "article", "header", "footer", "ul", "ol", "table",
                         "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "hr"})
_SKIP_TAGS = frozenset({"script", "style", "head", "title"})
EMAIL_RE = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment; a link keeps its address after its words."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0
        self.links: list[tuple[str, int]] = []

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP_TAGS:
            self.skipping += 1
        elif tag == "br":
            self.parts.append("\n")
        elif tag == "li":
            self.parts.append("\n- ")
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")
        elif tag == "a":
            self.links.append(((dict(attrs).get("href") or "").strip(), len(self.parts)))

    def handle_endtag(self, tag):
        if tag in _SKIP_TAGS:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK_TAGS:
            self.parts.append("\n\n")
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            words = "".join(self.parts[start:])
            shown = href.removeprefix("mailto:").removeprefix("tel:")
            if (href and not href.lower().startswith(("javascript:", "#", "data:"))
                    and shown.rstrip("/") not in words):
                self.parts.append(f" ({shown})")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def tidy(text: str, multiline: bool) -> str:
    """Whitespace normalised: one line, or paragraphs kept with ``multiline``."""
    text = text.replace("\xa0", " ").replace("\r\n", "\n").replace("\r", "\n")
    if not multiline:
        return re.sub(r"\s+", " ", text).strip()
    lines = [re.sub(r"[ \t\f\v]+", " ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(markup: str) -> str:
    """Plain text from an HTML fragment: tags gone, paragraphs kept, links kept.

    >>> html_to_text('<p>Art &amp; chat.</p><p>See <a href="https://x.org/art">our page</a></p>')
    'Art & chat.\\n\\nSee our page (https://x.org/art)'
    >>> html_to_text('<a href="https://x.org">https://x.org</a><script>alert(1)</script>')
    'https://x.org'
    """
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return tidy("".join(parser.parts), multiline=True)


def clean_text(value: object, *, multiline: bool = False) -> tuple[str, set[str]]:
    """Text fit to store, and what was done to it: ``html``, ``entities``, ``trimmed``,
    ``control``.

    HTML becomes plain text (links kept); entities, even double-encoded ones, are decoded;
    control characters (NUL...), zero-width spaces, word joiners and BOMs are removed.
    """
    if value is None or isinstance(value, (dict, list, bool)):
        return "", set()
    raw = str(value)
    text, notes = raw, set[str]()
    for _ in range(3):
        if _TAG_RE.search(text):
            text, notes = html_to_text(text), notes | {"html"}
        elif _ENTITY_RE.search(text):
            text, notes = html.unescape(text), notes | {"entities"}
        else:
            break
    if SUSPICIOUS.search(text):
        cleaned = CONTROL.sub("", text).translate(STRIP_FROM_TEXT)
        if cleaned != text:
            text, notes = cleaned, notes | {"control"}
    tidied = tidy(text, multiline)
    if not notes and tidied != raw:
        notes.add("trimmed")
    return tidied, notes


def text_of(value: object) -> str:
    """A scalar as plain, tidy one-line text (no reporting); ``''`` for anything else."""
    return clean_text(value)[0]


def iso_date(value: object) -> str:
    """``2023-03-15T10:30:45Z`` or ``15/03/2023`` → ``2023-03-15``; ``''`` if not a date."""
    text = text_of(value)
    for candidate in (text[:10], text):
        try:
            return parse_date(candidate)
        except ValueError:
            continue
    return ""
