"""A workspace's email-cases settings, kept in ``workspaces.settings["email"]``.

One pydantic model validates what the API receives and what is read back; every field has
a default, so a workspace that never saved settings works out of the box.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sfbridge.core.errors import CoreError
from sfbridge.core.handoff import DEFAULT_PHRASES, HandoffRules, OfficeHours, OutsideHoursPolicy
from sfbridge.core.loops import RateLimit

SETTINGS_KEY = "email"
#: The longest a resolved session is watched for its Case being reopened.
MAX_REOPEN_WATCH_DAYS = 365
_FIELD_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,79}$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

Interval = Annotated[list[str], Field(min_length=2, max_length=2)]


class OfficeHoursModel(BaseModel):
    """Office hours: time zone, weekly intervals ("HH:MM"), closed dates."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    tz: str = Field(default="UTC", min_length=1, max_length=64)
    #: weekday 0 (Monday) .. 6 (Sunday) -> [["09:00", "17:00"], ...]
    weekly: dict[int, list[Interval]] = Field(default_factory=dict)
    holidays: list[dt.date] = Field(default_factory=list, max_length=366)

    @field_validator("weekly")
    @classmethod
    def _times(cls, weekly: dict[int, list[list[str]]]) -> dict[int, list[list[str]]]:
        for day, intervals in weekly.items():
            if day not in range(7):
                raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), not {day}")
            for interval in intervals:
                for value in interval:
                    if not _HHMM.match(value):
                        raise ValueError(f"times are HH:MM (24 h), not {value!r}")
        return weekly

    @model_validator(mode="after")
    def _valid(self) -> OfficeHoursModel:
        try:
            self.to_core()
        except CoreError as exc:
            raise ValueError(str(exc)) from exc
        return self

    def to_core(self) -> OfficeHours:
        """The core value object."""
        return OfficeHours(
            tz=self.tz,
            weekly={
                day: [
                    (dt.time.fromisoformat(start), dt.time.fromisoformat(end))
                    for start, end in intervals
                ]
                for day, intervals in self.weekly.items()
            },
            holidays=frozenset(self.holidays),
        )


class EmailSettings(BaseModel):
    """Everything an admin can set for email cases."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # -- handoff triggers
    handoff_phrases: list[Annotated[str, Field(min_length=2, max_length=200)]] = Field(
        default_factory=lambda: list(DEFAULT_PHRASES), max_length=500
    )
    handoff_sender_domains: list[Annotated[str, Field(min_length=1, max_length=253)]] = Field(
        default_factory=list, max_length=500
    )
    handoff_keywords: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, max_length=500
    )
    handoff_every_email: bool = False
    # -- office hours
    office_hours: OfficeHoursModel | None = None
    outside_hours_policy: OutsideHoursPolicy = OutsideHoursPolicy.HANDOFF_AND_ACK
    out_of_hours_message: str = Field(
        default=(
            "Thank you for your message. Our team is away right now; a person will answer "
            "when we are back{opening}."
        ),
        max_length=4000,
    )
    # -- the Case
    external_id_field: str = "conversationId__c"
    marker_field: str | None = "Case_From__c"
    marker_value: str = Field(default="sfbridge", max_length=255)
    origin: str = Field(default="Email", min_length=1, max_length=40)
    priority: str | None = Field(default=None, max_length=40)
    owner_id: str | None = Field(default=None, pattern=r"^[a-zA-Z0-9]{15}([a-zA-Z0-9]{3})?$")
    comments_published: bool = False
    # -- threading and re-engagement
    reopen_window_days: float = Field(default=0, ge=0, le=365)
    reopen_status: str = Field(default="New", min_length=1, max_length=40)
    #: how long the reconciliation keeps checking a resolved session's Case for a reopening
    #: done in Salesforce (0: only the webhook notices)
    reopen_watch_days: int = Field(default=14, ge=0, le=MAX_REOPEN_WATCH_DAYS)
    subject_window_hours: float = Field(default=72, ge=0, le=24 * 90)
    subject_tags: list[Annotated[str, Field(min_length=1, max_length=40)]] | None = None
    # -- loops
    flood_max_messages: int = Field(default=15, ge=1, le=10_000)
    flood_window_seconds: int = Field(default=60, ge=1, le=86_400)
    # -- the support address's display name
    from_name: str = Field(default="", max_length=200)

    @field_validator("external_id_field", "marker_field")
    @classmethod
    def _field_name(cls, value: str | None) -> str | None:
        if value is not None and not _FIELD_NAME.match(value):
            raise ValueError(f"{value!r} is not a Salesforce field API name")
        return value

    def rules(self) -> HandoffRules:
        """The core handoff rules."""
        return HandoffRules(
            phrases=tuple(self.handoff_phrases),
            sender_domains=frozenset(d.lower() for d in self.handoff_sender_domains),
            keywords=tuple(self.handoff_keywords),
            every_email=self.handoff_every_email,
        )

    def rate_limit(self) -> RateLimit:
        """The flood rule."""
        return RateLimit(
            max_messages=self.flood_max_messages,
            window=dt.timedelta(seconds=self.flood_window_seconds),
        )


def from_workspace_settings(settings: dict[str, Any] | Any) -> EmailSettings:
    """Read the email settings out of a workspace's settings object (defaults when absent)."""
    raw = settings.get(SETTINGS_KEY) if isinstance(settings, dict) else None
    if not isinstance(raw, dict):
        return EmailSettings()
    return EmailSettings.model_validate(raw)
