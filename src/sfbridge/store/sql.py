"""Load the named SQL blocks of ``queries.sql`` (``-- name: x`` headers) into a mapping."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from importlib import resources
from typing import LiteralString

from sfbridge.errors import StoreError

_HEADER = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$")


def parse_queries(text: str) -> dict[str, LiteralString]:
    """Split ``text`` into ``{name: sql}`` at each ``-- name: <name>`` line.

    Comment lines right after a header are kept (Postgres ignores them). Text before
    the first header is ignored.

    Raises:
        StoreError: A name appears twice or a block is empty.
    """
    blocks: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in text.splitlines():
        match = _HEADER.match(line.strip())
        if match:
            name = match.group(1)
            if name in blocks:
                raise StoreError(f"queries.sql defines the query {name!r} twice; rename one.")
            current = blocks[name] = []
        elif current is not None:
            current.append(line)
    queries: dict[str, LiteralString] = {}
    for name, lines in blocks.items():
        body = "\n".join(lines).strip()
        if not any(ln.strip() and not ln.strip().startswith("--") for ln in lines):
            raise StoreError(f"The query {name!r} in queries.sql is empty.")
        # The file ships inside the package: its text is as trusted as a literal.
        queries[name] = body
    return queries


@functools.cache
def queries() -> Mapping[str, LiteralString]:
    """Return every query shipped in ``sfbridge/store/queries*.sql`` (read once).

    ``queries.sql`` holds the foundation's queries; each feature area keeps its own
    ``queries_<area>.sql`` beside it. A name defined in two files is an error.
    """
    merged: dict[str, LiteralString] = {}
    folder = resources.files("sfbridge.store")
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not (entry.name.startswith("queries") and entry.name.endswith(".sql")):
            continue
        for name, body in parse_queries(entry.read_text(encoding="utf-8")).items():
            if name in merged:
                raise StoreError(f"The query {name!r} is defined twice (again in {entry.name}).")
            merged[name] = body
    return merged
