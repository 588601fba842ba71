"""SOSL search terms: the text inside ``FIND {...}`` parsed and matched against field values.

Terms: words (``acme``), phrases (``"acme corp"``), ``*`` (any run) and ``?`` (one character)
wildcards, ``AND`` / ``OR`` / ``AND NOT`` and parentheses; adjacent words are AND-ed. A
backslash makes the next character literal (reserved characters ``? & | ! { } [ ] ( ) ^ ~ * :
\\ " ' + -``). Matching is case-insensitive and by whole tokens (a word's tokens must appear
consecutively in one field); wildcards extend a token. Phone fields compare digits only: the
stored digits end with the searched digits or the other way round, seven digits at least.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sfemu.model import ApiError

MIN_PHONE_DIGITS = 7
_OPERATORS = frozenset({"AND", "OR", "NOT"})
_PHONE_TERM = re.compile(r"[\d\s()+.\-]+")
_TOKEN = re.compile(r"\w+")
#: Literal characters are marked by this prefix inside word text (after a backslash).
_LITERAL = "\x00"


@dataclass(frozen=True, kw_only=True, slots=True)
class Word:
    """A word or phrase: token patterns that must match consecutive tokens of one value."""

    text: str
    patterns: tuple[re.Pattern[str], ...]
    digits: str


@dataclass(frozen=True, kw_only=True, slots=True)
class AllOf:
    items: tuple[Term, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class AnyOf:
    items: tuple[Term, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class Without:
    item: Term


Term = Word | AllOf | AnyOf | Without


def _error(message: str) -> ApiError:
    return ApiError(400, "MALFORMED_SEARCH", message)


def _word(raw: str) -> Word:
    """Build a word from lexed text in which ``\\x00c`` marks a literal character ``c``."""
    plain = raw.replace(_LITERAL, "")
    patterns: list[re.Pattern[str]] = []
    token = ""
    chars = iter(range(len(raw)))
    for i in chars:
        char = raw[i]
        if char == _LITERAL and i + 1 < len(raw):
            literal = raw[i + 1]
            next(chars, None)
            if literal.isalnum() or literal == "_":
                token += re.escape(literal.casefold())
            elif token:
                patterns.append(re.compile(token))
                token = ""
        elif char == "*":
            token += r"\w*"
        elif char == "?":
            token += r"\w"
        elif char.isalnum() or char == "_":
            token += re.escape(char.casefold())
        elif token:
            patterns.append(re.compile(token))
            token = ""
    if token:
        patterns.append(re.compile(token))
    return Word(
        text=plain, patterns=tuple(patterns), digits="".join(c for c in plain if c.isdigit())
    )


def _lex(text: str) -> list[tuple[str, str]]:
    """(kind, value) tokens: ``word``, ``phrase``, ``(``, ``)``, ``op``."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
        elif char in "()":
            out.append((char, char))
            i += 1
        elif char == '"':
            end = i + 1
            buf = ""
            while end < len(text) and text[end] != '"':
                if text[end] == "\\" and end + 1 < len(text):
                    buf += _LITERAL + text[end + 1]
                    end += 2
                else:
                    buf += text[end]
                    end += 1
            if end >= len(text):
                raise _error("unmatched quote in search term")
            out.append(("phrase", buf))
            i = end + 1
        else:
            buf = ""
            while i < len(text) and not text[i].isspace() and text[i] not in '()"':
                if text[i] == "\\":
                    if i + 1 >= len(text):
                        raise _error("search term ends with a backslash")
                    buf += _LITERAL + text[i + 1]
                    i += 2
                else:
                    buf += text[i]
                    i += 1
            kind = "op" if buf.upper() in _OPERATORS else "word"
            out.append((kind, buf.upper() if kind == "op" else buf))
    return out


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expr(self) -> Term:
        items = [self.conjunction()]
        while self.peek() == ("op", "OR"):
            self.take()
            items.append(self.conjunction())
        return items[0] if len(items) == 1 else AnyOf(items=tuple(items))

    def conjunction(self) -> Term:
        items = [self.unary()]
        while (token := self.peek()) is not None and token[0] != ")" and token != ("op", "OR"):
            if token == ("op", "AND"):
                self.take()
                if self.peek() == ("op", "NOT"):
                    self.take()
                    items.append(Without(item=self.unary()))
                    continue
            items.append(self.unary())
        return items[0] if len(items) == 1 else AllOf(items=tuple(items))

    def unary(self) -> Term:
        token = self.peek()
        if token is None:
            raise _error("search term ends with an operator")
        kind, value = self.take()
        if kind == "(":
            inner = self.expr()
            if self.peek() != (")", ")"):
                raise _error("missing ')' in search term")
            self.take()
            return inner
        if kind in ("word", "phrase"):
            return _word(value)
        if value == "NOT":
            return Without(item=self.unary())
        raise _error(f"unexpected operator in search term: {value}")


def parse(text: str) -> Term:
    """Parse the inside of ``FIND {...}``.

    Raises:
        ApiError: 400 MALFORMED_SEARCH for an empty, one-character or unbalanced term.
    """
    stripped = text.strip()
    if _PHONE_TERM.fullmatch(stripped) and sum(c.isdigit() for c in stripped) >= MIN_PHONE_DIGITS:
        return _word(stripped)
    tokens = _lex(text)
    words = [v.replace(_LITERAL, "") for k, v in tokens if k in ("word", "phrase")]
    if not words:
        raise _error("No search term found. The search term must be enclosed in braces.")
    if sum(c.isalnum() for w in words for c in w) < 2:
        raise _error("search term must be longer than one character")
    parser = _Parser(tokens)
    term = parser.expr()
    leftover = parser.peek()
    if leftover is not None:
        raise _error(f"unexpected token in search term: {leftover[1]}")
    return term


def _tokens_match(word: Word, value: str) -> bool:
    tokens = _TOKEN.findall(value.casefold())
    size = len(word.patterns)
    if size == 0:
        return False
    for start in range(len(tokens) - size + 1):
        if all(p.fullmatch(tokens[start + k]) for k, p in enumerate(word.patterns)):
            return True
    return False


def _phone_match(word: Word, value: str) -> bool:
    stored = "".join(c for c in value if c.isdigit())
    wanted = word.digits
    if len(wanted) < MIN_PHONE_DIGITS or len(stored) < MIN_PHONE_DIGITS:
        return False
    return stored.endswith(wanted) or wanted.endswith(stored)


def word_matches(word: Word, values: Iterable[tuple[str, str]]) -> bool:
    """True when the word matches one of ``(search_group, text)`` values."""
    for group, value in values:
        if group == "phone":
            if _phone_match(word, value):
                return True
        elif _tokens_match(word, value):
            return True
    return False


def evaluate(term: Term, test: Callable[[Word], bool]) -> bool:
    """Evaluate a term tree, with ``test`` deciding each word."""
    if isinstance(term, Word):
        return test(term)
    if isinstance(term, AllOf):
        return all(evaluate(t, test) for t in term.items)
    if isinstance(term, AnyOf):
        return any(evaluate(t, test) for t in term.items)
    return not evaluate(term.item, test)
