"""The REST API versions sfemu answers to, and what ``latest`` stands for.

One place for both the REST paths (``/services/data/latest/...``) and identity URLs
(``/id/...?version=latest``), so the two never disagree.
"""

from __future__ import annotations

from typing import Final

#: The newest version (Summer '24): what ``latest`` stands for everywhere.
LATEST_VERSION: Final = 62
#: The oldest version ``GET /services/data/`` lists and the router accepts.
OLDEST_VERSION: Final = 20
#: :data:`LATEST_VERSION` as it is written in URLs and bodies (``"62.0"``).
LATEST_API_VERSION: Final = f"{LATEST_VERSION}.0"
