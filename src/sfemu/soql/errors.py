"""Query errors with Salesforce's wording, including the row/column caret block.

Parsing and binding raise :class:`PositionedError` (an :class:`~sfemu.model.ApiError`) that
knows where in the statement it happened; the public entry points turn it into the final
wire message with :meth:`PositionedError.render`, which needs the statement text.
"""

from __future__ import annotations

from sfemu.model import ApiError
from sfemu.soql.nodes import Pos

_CUSTOM_FIELD_HINT = (
    "If you are attempting to use a custom field, be sure to append the '__c' after the "
    "custom field name. Please reference your WSDL or the describe call for the appropriate "
    "names."
)
_CUSTOM_OBJECT_HINT = (
    "If you are attempting to use a custom object, be sure to append the '__c' after the "
    "entity name. Please reference your WSDL or the describe call for the appropriate names."
)
_CUSTOM_RELATIONSHIP_HINT = (
    "If you are attempting to use a custom relationship, be sure to append the '__r' after "
    "the custom relationship name. Please reference your WSDL or the describe call for the "
    "appropriate names."
)


class PositionedError(ApiError):
    """A 400 query error tied to a place in the statement (or to none, when ``pos`` is None)."""

    def __init__(self, error_code: str, message: str, pos: Pos | None) -> None:
        super().__init__(400, error_code, message)
        self.pos = pos

    def render(self, text: str) -> ApiError:
        """The error as Salesforce sends it: the offending row, a caret, then the message."""
        if self.pos is None:
            return ApiError(400, self.error_code, self.message)
        return ApiError(400, self.error_code, caret_message(text, self.pos, self.message))


def caret_message(text: str, pos: Pos, message: str) -> str:
    """``\\n<row text>\\n<spaces>^\\nERROR at Row:r:Column:c\\n<message>``."""
    lines = text.split("\n")
    row_text = lines[pos.row - 1] if 0 < pos.row <= len(lines) else text
    caret = " " * max(pos.column - 1, 0) + "^"
    return f"\n{row_text}\n{caret}\nERROR at Row:{pos.row}:Column:{pos.column}\n{message}"


def malformed(
    message: str, pos: Pos | None = None, *, code: str = "MALFORMED_QUERY"
) -> PositionedError:
    """A syntax error (``MALFORMED_QUERY``, or ``MALFORMED_SEARCH`` for SOSL)."""
    return PositionedError(code, message, pos)


def no_such_column(field: str, entity: str, pos: Pos) -> PositionedError:
    """``INVALID_FIELD``: the field does not exist on the entity (or is hidden by FLS)."""
    return PositionedError(
        "INVALID_FIELD",
        f"No such column '{field}' on entity '{entity}'. {_CUSTOM_FIELD_HINT}",
        pos,
    )


def bad_relationship(name: str, pos: Pos) -> PositionedError:
    """``INVALID_FIELD``: a path segment is not a relationship of the object."""
    return PositionedError(
        "INVALID_FIELD",
        f"Didn't understand relationship '{name}' in field path. {_CUSTOM_RELATIONSHIP_HINT}",
        pos,
    )


def bad_child_relationship(name: str, pos: Pos) -> PositionedError:
    """``INVALID_TYPE``: a subquery's FROM is not a child relationship of the parent."""
    return PositionedError(
        "INVALID_TYPE",
        f"Didn't understand relationship '{name}' in FROM part of query call. "
        f"{_CUSTOM_RELATIONSHIP_HINT}",
        pos,
    )


def unknown_object(name: str, pos: Pos | None) -> PositionedError:
    """``INVALID_TYPE``: the org has no such object."""
    return PositionedError(
        "INVALID_TYPE", f"sObject type '{name}' is not supported. {_CUSTOM_OBJECT_HINT}", pos
    )


def filter_type(field: str, expected: str, *, quoted: bool, pos: Pos) -> PositionedError:
    """``INVALID_QUERY_FILTER_OPERATOR``: the literal's kind does not fit the field's type."""
    quoting = "should be enclosed in quotes" if quoted else "should not be enclosed in quotes"
    return PositionedError(
        "INVALID_QUERY_FILTER_OPERATOR",
        f"value of filter criterion for field '{field}' must be of type {expected} and {quoting}",
        pos,
    )


def invalid_id(value: str, pos: Pos) -> PositionedError:
    """``INVALID_QUERY_FILTER_OPERATOR``: an Id filter value that is not an id."""
    return PositionedError("INVALID_QUERY_FILTER_OPERATOR", f"invalid ID field: {value}", pos)
