"""HTML to plain text with the standard library's ``html.parser``.

Good enough for mail bodies: block elements start new lines, ``<br>`` breaks lines,
list items get a bullet, links keep their address when it differs from their text,
``<script>``, ``<style>`` and ``<head>`` are dropped, and text inside ``<blockquote>``
is prefixed with ``> `` so that :func:`sfbridge.core.quotes.strip_quoted` removes it
like any other quoted history.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]

_BLOCKS = frozenset(
    {
        "address", "article", "aside", "blockquote", "dd", "div", "dl", "dt", "fieldset",
        "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
    }
)  # fmt: skip
_PARAGRAPHS = frozenset({"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "pre"})
_SKIP = frozenset({"script", "style", "head", "title", "template", "noscript"})
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self._current: list[str] = []
        self._current_depth = 0
        self._depth = 0
        self._skipping = 0
        self._pre = 0
        self._href: list[str | None] = []
        self._link_text: list[str] = []

    def _break(self) -> None:
        text = "".join(self._current)
        if not self._pre:
            text = _SPACES.sub(" ", text).strip()
        self.lines.append((self._current_depth, text))
        self._current = []
        self._current_depth = self._depth

    def _soft_break(self) -> None:
        if "".join(self._current).strip():
            self._break()
        else:
            self._current = []
            self._current_depth = self._depth

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skipping += 1
            return
        if tag == "br":
            self._break()
        elif tag in _BLOCKS:
            self._soft_break()
        if tag == "blockquote":
            self._depth += 1
            self._current_depth = self._depth
        elif tag == "pre":
            self._pre += 1
        elif tag == "li":
            self._current.append("- ")
        elif tag == "a":
            self._href.append(dict(attrs).get("href"))
            self._link_text.append("")
        elif tag in {"td", "th"} and self._current:
            self._current.append(" ")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self._break()
        elif tag in _BLOCKS:
            self._soft_break()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skipping = max(0, self._skipping - 1)
            return
        if tag in _BLOCKS:
            self._soft_break()
            if tag in _PARAGRAPHS and self.lines and self.lines[-1][1]:
                self.lines.append((self._depth, ""))
        if tag == "blockquote":
            self._depth = max(0, self._depth - 1)
            self._current_depth = self._depth
        elif tag == "pre":
            self._pre = max(0, self._pre - 1)
        elif tag == "a" and self._href:
            href = self._href.pop()
            text = self._link_text.pop().strip()
            if href and href.startswith(("http://", "https://")) and href != text:
                self._current.append(f" <{href}>")

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._pre:
            parts = data.split("\n")
            for index, part in enumerate(parts):
                if index:
                    self._break()
                self._current.append(part)
        else:
            self._current.append(data.replace("\n", " "))
        if self._link_text:
            self._link_text[-1] += data

    def text(self) -> str:
        self._soft_break()
        out: list[str] = []
        for position, (depth, line) in enumerate(self.lines):
            following = self.lines[position + 1][0] if position + 1 < len(self.lines) else 0
            if depth and not line and following != depth:
                continue  # a blank line closing a quote level
            out.append(("> " * depth + line).rstrip() if depth else line)
        joined = "\n".join(out)
        return re.sub(r"\n{3,}", "\n\n", joined).strip()


def html_to_text(html: str) -> str:
    """Return readable plain text for an HTML mail body; never raises."""
    collector = _TextCollector()
    try:
        collector.feed(html)
        collector.close()
    except Exception:  # html.parser is lenient; this guards against the unexpected
        return _SPACES.sub(" ", re.sub(r"<[^>]*>", " ", html)).strip()
    return collector.text()
