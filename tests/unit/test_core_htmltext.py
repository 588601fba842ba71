"""HTML bodies to plain text."""

from __future__ import annotations

import pytest

from sfbridge.core.htmltext import html_to_text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("<p>Hello</p><p>World</p>", "Hello\n\nWorld"),
        ("Line one<br>Line two<br/>Line three", "Line one\nLine two\nLine three"),
        ("<div>a</div><div>b</div>", "a\nb"),
        ("<ul><li>one</li><li>two</li></ul>", "- one\n- two"),
        ("<p>caf&eacute; &amp; &lt;tea&gt;&nbsp;now</p>", "café & <tea> now"),
        ("<head><title>T</title><style>p{color:red}</style></head><p>Body</p>", "Body"),
        ("<script>alert(1)</script><p>Safe</p>", "Safe"),
        ('<a href="https://acme.test/t/1">ticket</a>', "ticket <https://acme.test/t/1>"),
        ('<a href="https://acme.test">https://acme.test</a>', "https://acme.test"),
        ('<a href="mailto:a@b.c">write us</a>', "write us"),
        ("<p>Mine</p><blockquote><p>Theirs</p></blockquote>", "Mine\n\n> Theirs"),
        ("<blockquote>a<blockquote>b</blockquote></blockquote>", "> a\n> > b"),
        ("<pre>x = 1\n    y = 2</pre>", "x = 1\n    y = 2"),
        ("<table><tr><td>a</td><td>b</td></tr></table>", "a b"),
        ("<p>  lots   of\n spaces </p>", "lots of spaces"),
        ("<p>unclosed <b>bold", "unclosed bold"),
        ("", ""),
        ("plain text, no tags", "plain text, no tags"),
    ],
)
def test_html_to_text(html: str, text: str) -> None:
    assert html_to_text(html) == text
