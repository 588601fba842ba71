"""The email settings as an HTML form: flat text fields in, :class:`EmailSettings` out.

Lists are one item per line; office hours are one text field per weekday
(``09:00-12:00, 13:00-17:00``; empty = closed). Validation is the settings model's own, so
the page and the JSON API accept exactly the same values; its errors come back as sentences
naming the field as the form labels it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from sfbridge.services.email.settings import EmailSettings
from sfbridge.web.pages.common import PageError

WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

#: Settings field -> the form's label for it (used in error sentences).
LABELS = {
    "handoff_phrases": "Handoff phrases",
    "handoff_keywords": "Handoff keywords",
    "handoff_sender_domains": "Sender domains",
    "handoff_every_email": "Escalate every email",
    "office_hours": "Office hours",
    "outside_hours_policy": "Outside office hours",
    "out_of_hours_message": "Out-of-hours message",
    "external_id_field": "External id field",
    "marker_field": "Marker field",
    "marker_value": "Marker value",
    "origin": "Case origin",
    "priority": "Case priority",
    "owner_id": "Case owner id",
    "comments_published": "Publish comments",
    "reopen_window_days": "Reopen window (days)",
    "reopen_status": "Reopened Case status",
    "subject_window_hours": "Subject match window (hours)",
    "subject_tags": "Subject tags",
    "flood_max_messages": "Flood limit (messages)",
    "flood_window_seconds": "Flood window (seconds)",
    "from_name": "Sender name",
}

_LINES = ("handoff_phrases", "handoff_keywords", "handoff_sender_domains")
_CHECKBOXES = ("handoff_every_email", "comments_published")
_TEXT = (
    "outside_hours_policy",
    "out_of_hours_message",
    "external_id_field",
    "marker_value",
    "origin",
    "reopen_window_days",
    "reopen_status",
    "subject_window_hours",
    "flood_max_messages",
    "flood_window_seconds",
    "from_name",
)
_OPTIONAL = ("marker_field", "priority", "owner_id")
_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?$")


class SettingsFormInvalid(PageError):
    """The email settings form has values the settings do not accept."""

    def __init__(self, problems: tuple[str, ...], fields: frozenset[str] = frozenset()) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems  #: one sentence per mistake
        self.fields = fields  #: the form fields to mark invalid


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _number(value: float | int) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def to_form(settings: EmailSettings) -> dict[str, str]:
    """The form's field values for ``settings`` (every value a string; checkboxes "on"/"")."""
    form: dict[str, str] = {name: "\n".join(getattr(settings, name)) for name in _LINES}
    form.update({name: "on" if getattr(settings, name) else "" for name in _CHECKBOXES})
    for name in _TEXT:
        value = getattr(settings, name)
        form[name] = _number(value) if isinstance(value, int | float) else str(value)
    form.update({name: getattr(settings, name) or "" for name in _OPTIONAL})
    form["subject_tags"] = "\n".join(settings.subject_tags or [])
    hours = settings.office_hours
    form["office_hours_on"] = "on" if hours is not None else ""
    form["tz"] = hours.tz if hours is not None else "UTC"
    for day in range(7):
        spans = hours.weekly.get(day, []) if hours is not None else []
        form[f"hours_{day}"] = ", ".join(f"{start}-{end}" for start, end in spans)
    form["holidays"] = "\n".join(d.isoformat() for d in hours.holidays) if hours else ""
    return form


def clock(text: str) -> str | None:
    """``9`` or ``9:30`` or ``09.30`` -> ``09:00`` / ``09:30``; ``None`` when not a 24-hour time."""
    found = _TIME.match(text.strip())
    if found is None:
        return None
    hour, minute = int(found.group(1)), int(found.group(2) or 0)
    if hour > 23 or minute > 59:
        return None
    return f"{hour:02d}:{minute:02d}"


def spans(day: int, text: str) -> tuple[list[list[str]], list[str]]:
    """One weekday's field (``09:00-12:00, 13:00-17:00``) as [[start, end], ...] and problems."""
    found: list[list[str]] = []
    problems: list[str] = []
    where = f"Office hours, {WEEKDAYS[day]}"
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        start, sep, end = part.replace("–", "-").partition("-")
        if not sep:
            problems.append(f"{where}: write a span as 09:00-17:00, not {part!r}")
            continue
        times = [clock(start), clock(end)]
        if times[0] is None or times[1] is None:
            problems.append(f"{where}: {part!r} is not a span of 24-hour times like 09:00-17:00")
            continue
        found.append([times[0], times[1]])
    return found, problems


def from_form(form: Mapping[str, str]) -> EmailSettings:
    """Read the posted form into settings.

    Empty number and text fields take their defaults; empty optional fields (marker field,
    priority, owner, subject tags) are turned off.

    Raises:
        SettingsFormInvalid: with one sentence per wrong field.
    """
    raw: dict[str, Any] = {name: _lines(form.get(name, "")) for name in _LINES}
    raw.update({name: bool(form.get(name)) for name in _CHECKBOXES})
    raw.update({name: form[name].strip() for name in _TEXT if form.get(name, "").strip()})
    raw.update({name: form.get(name, "").strip() or None for name in _OPTIONAL})
    raw["subject_tags"] = _lines(form.get("subject_tags", "")) or None
    problems: list[str] = []
    fields: set[str] = set()
    if form.get("office_hours_on"):
        weekly: dict[int, list[list[str]]] = {}
        for day in range(7):
            day_spans, wrong = spans(day, form.get(f"hours_{day}", ""))
            problems.extend(wrong)
            if wrong:
                fields.add(f"hours_{day}")
            if day_spans:
                weekly[day] = day_spans
        raw["office_hours"] = {
            "tz": form.get("tz", "").strip() or "UTC",
            "weekly": weekly,
            "holidays": _lines(form.get("holidays", "")),
        }
    try:
        settings = EmailSettings.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            field, sentence = _problem(error)
            problems.append(sentence)
            fields.add(field)
        raise SettingsFormInvalid(tuple(problems), frozenset(fields)) from exc
    if problems:
        raise SettingsFormInvalid(tuple(problems), frozenset(fields))
    return settings


def _problem(error: Mapping[str, Any]) -> tuple[str, str]:
    """A validation error as (the form field to mark, a sentence naming it as labelled)."""
    loc = tuple(error.get("loc", ())) or ("settings",)
    field = str(loc[0])
    label = LABELS.get(field, field)
    if loc[:2] == ("office_hours", "weekly") and len(loc) > 2 and loc[2] in range(7):
        field, label = f"hours_{loc[2]}", f"Office hours, {WEEKDAYS[int(loc[2])]}"
    elif loc[:2] == ("office_hours", "holidays"):
        field, label = "holidays", "Closed dates"
    elif loc[0] == "office_hours":
        field = "tz"  # the zone, or the hours as a whole
    message = str(error.get("msg", "is not valid")).removeprefix("Value error, ")
    return field, f"{label}: {message}"
