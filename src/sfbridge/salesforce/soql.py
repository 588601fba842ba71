"""The only way values enter SOQL (and SOSL): quoting and escaping.

``format_soql("SELECT Id FROM Contact WHERE Email = {}", email)`` quotes like
simple-salesforce's ``format.py`` with three stricter choices: a naive ``datetime`` is refused
(its zone is unknown), an empty list is refused (``IN ()`` is a syntax error), and NaN or
infinity is refused. Format specs: ``{:literal}`` inserts the value as is (field names you
chose, never user input); ``{:like}`` escapes for use inside a quoted LIKE pattern, adding
``\\%`` and ``\\_``: ``"Name LIKE '{:like}%'"``.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
from collections.abc import Mapping, Sequence
from string import Formatter
from typing import Any

_SOQL_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "'": "\\'",
        '"': '\\"',
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
        "\b": "\\b",
        "\f": "\\f",
    }
)
_LIKE_ESCAPES = str.maketrans({"%": "\\%", "_": "\\_"})
_SOSL_RESERVED = "\\?&|!{}[]()^~*:\"'+-"


class _SoqlFormatter(Formatter):
    def format_field(self, value: Any, format_spec: str) -> Any:
        if not format_spec:
            return quote_soql_value(value)
        if format_spec == "literal":
            return str(value)
        if format_spec == "like":
            return str(value).translate(_SOQL_ESCAPES).translate(_LIKE_ESCAPES)
        raise ValueError(f"unknown SOQL format spec {format_spec!r}; use '', 'literal' or 'like'")


def format_soql(query: str, *args: Any, **kwargs: Any) -> str:
    """Insert values into a SOQL template, quoted and escaped.

    Args:
        query: a ``str.format`` template (``{}``, ``{0}``, ``{name}``, ``{:like}``, ``{:literal}``).
        *args: positional values.
        **kwargs: named values.

    Returns:
        The SOQL text.

    Raises:
        ValueError: a value cannot be represented in SOQL.
    """
    return _SoqlFormatter().vformat(query, args, kwargs)


def quote_soql_value(value: Any) -> str:
    """Render one value (or a list of values, for ``IN``) as a SOQL literal.

    Raises:
        ValueError: unsupported type, naive datetime, empty list, NaN or infinity.
    """
    if isinstance(value, str):
        return "'" + value.translate(_SOQL_ESCAPES) + "'"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float | decimal.Decimal):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"{value!r} cannot be used in SOQL")
        if isinstance(value, decimal.Decimal) and not value.is_finite():
            raise ValueError(f"{value!r} cannot be used in SOQL")
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("a naive datetime cannot be used in SOQL; give it a time zone")
        utc = value.astimezone(dt.UTC).replace(microsecond=0, tzinfo=None)
        return utc.isoformat() + "Z"
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Sequence | set | frozenset) and not isinstance(value, bytes | bytearray):
        items = list(value)
        if not items:
            raise ValueError("an empty list cannot be used in SOQL (IN () is a syntax error)")
        return "(" + ",".join(quote_soql_value(v) for v in items) + ")"
    if isinstance(value, Mapping):
        raise ValueError("a mapping cannot be used in SOQL")
    raise ValueError(f"a {type(value).__name__} cannot be used in SOQL")


def escape_sosl(term: str) -> str:
    """Escape a SOSL search term for use inside ``FIND {...}``.

    Every reserved character (``? & | ! { } [ ] ( ) ^ ~ * : \\ " ' + -``) gets a backslash, so
    the term matches literally, wildcards included.
    """
    return "".join("\\" + c if c in _SOSL_RESERVED else c for c in term)
