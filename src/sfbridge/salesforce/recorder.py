"""Recording each Salesforce call on the current trace, without tokens or personal data.

What is recorded: method, a redacted path, the final status (``None`` when no response came),
duration in milliseconds and the number of HTTP tries (retries and the refresh-retry count).

Redaction (:func:`redact_path`), decided so that a trace never holds personal data:

- the query string is dropped, except that a ``q`` parameter shows as ``q=<soql>`` (query,
  queryAll) or ``q=<sosl>`` (search): the statement may hold emails or phone numbers;
- an external-id value in the path (``sobjects/Contact/Email__c/ann@example.com``) becomes
  ``<value>``; record ids, object and field names stay (they identify, they don't expose);
- the host is never recorded (paths start at ``/services/...``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import parse_qsl, urlsplit

_ID = re.compile(r"^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$")
_SOBJECT_SUFFIXES = frozenset({"describe", "updated", "deleted", "listviews", "quickActions"})


class CallRecorder(Protocol):
    """Receives one line per Salesforce call (the lead's trace steps implement it)."""

    def record(
        self,
        method: str,
        path: str,
        status: int | None,
        duration_ms: float,
        attempts: int,
    ) -> None:
        """Record a finished call (``path`` already redacted)."""
        ...


@dataclass(frozen=True, kw_only=True, slots=True)
class RecordedCall:
    """One recorded call."""

    method: str
    path: str
    status: int | None
    duration_ms: float
    attempts: int


class MemoryRecorder:
    """A :class:`CallRecorder` that keeps calls in a list (tests, benchmarks)."""

    def __init__(self) -> None:
        self.calls: list[RecordedCall] = []

    def record(
        self,
        method: str,
        path: str,
        status: int | None,
        duration_ms: float,
        attempts: int,
    ) -> None:
        """Append the call."""
        self.calls.append(
            RecordedCall(
                method=method,
                path=path,
                status=status,
                duration_ms=duration_ms,
                attempts=attempts,
            )
        )


def redact_path(url_or_path: str, params: Iterable[str] = ()) -> str:
    """Strip host, query values and external-id values from a request URL.

    Args:
        url_or_path: absolute URL or path, with or without a query string.
        params: names of query parameters sent separately from the URL.

    Returns:
        The path safe to record.
    """
    parts = urlsplit(url_or_path)
    segments = parts.path.split("/")
    if "sobjects" in segments:
        i = segments.index("sobjects")
        rest = segments[i + 1 :]
        # sobjects/{Object}/{field}/{value}: the field is not an id and not a sub-resource
        if len(rest) >= 3 and _is_external_id_field(rest[1]):
            segments[i + 3] = "<value>"
    path = "/".join(segments)
    keys = [k for k, _ in parse_qsl(parts.query, keep_blank_values=True)] + list(params)
    if "q" in keys:
        kind = "sosl" if any("search" in seg.lower() for seg in segments) else "soql"
        return f"{path}?q=<{kind}>"
    return path


def _is_external_id_field(segment: str) -> bool:
    return bool(segment) and not _ID.match(segment) and segment not in _SOBJECT_SUFFIXES
