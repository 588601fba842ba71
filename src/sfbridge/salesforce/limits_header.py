"""Parse ``Sforce-Limit-Info``: ``api-usage=25/5000; per-app-api-usage=17/250(appName=x)``."""

from __future__ import annotations

import re
from dataclasses import dataclass

_ORG = re.compile(r"(?:^|[^-])api-usage=(\d+)/(\d+)")
_APP = re.compile(r"per-app-api-usage=(\d+)/(\d+)\(appName=([^)]*)\)")


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiUsage:
    """API calls used and allowed in the rolling 24 hours, for the org and our app."""

    used: int
    max: int
    app_used: int | None = None
    app_max: int | None = None
    app_name: str | None = None

    @property
    def fraction(self) -> float:
        """The higher of the org's and the app's used/max (1.0 when a max is 0)."""
        fractions = [_ratio(self.used, self.max)]
        if self.app_used is not None and self.app_max is not None:
            fractions.append(_ratio(self.app_used, self.app_max))
        return max(fractions)


def _ratio(used: int, cap: int) -> float:
    return 1.0 if cap <= 0 else used / cap


def parse_limit_info(header: str | None) -> ApiUsage | None:
    """Parse the header; ``None`` when it is absent or has no ``api-usage``.

    Args:
        header: the raw ``Sforce-Limit-Info`` value.
    """
    if not header:
        return None
    org = _ORG.search(header)
    if org is None:
        return None
    app = _APP.search(header)
    return ApiUsage(
        used=int(org.group(1)),
        max=int(org.group(2)),
        app_used=int(app.group(1)) if app else None,
        app_max=int(app.group(2)) if app else None,
        app_name=app.group(3) if app else None,
    )
