"""Errors raised by the pure core.

Core functions only raise for arguments a caller should never pass (a naive datetime,
an invalid time zone, an Apex name that is not an identifier). Data from the outside
world (mail, text) never makes them raise: a bad message becomes a value that says so::

    BridgeError
    └── CoreError               an argument to a core function is invalid (also a ValueError)
"""

from __future__ import annotations

from sfbridge.errors import BridgeError


class CoreError(BridgeError, ValueError):
    """An argument to a core function is invalid."""

    def __init__(self, message: str | None = None, *, field: str = "") -> None:
        super().__init__(message)
        self.field = field
