"""The email settings form's reading and writing (pure: no browser, no server).

Kept next to the browser tests of the same page; it needs no fixture.
"""

from __future__ import annotations

import datetime as dt

import pytest

from sfbridge.services.email.settings import EmailSettings
from sfbridge.web.pages.common import handoff_reason, when, with_note
from sfbridge.web.pages.operations import job_label
from sfbridge.web.pages.settings_form import SettingsFormInvalid, clock, from_form, to_form


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("9", "09:00"),
        ("09:30", "09:30"),
        ("9.30", "09:30"),
        ("17h15", "17:15"),
        (" 23:59 ", "23:59"),
        ("0", "00:00"),
        ("24", None),
        ("12:60", None),
        ("9am", None),
        ("", None),
        ("123", None),
    ],
)
def test_clock_reads_24_hour_times(text: str, expected: str | None) -> None:
    assert clock(text) == expected


def test_defaults_survive_a_round_trip_through_the_form() -> None:
    assert from_form(to_form(EmailSettings())) == EmailSettings()


def test_a_full_form_round_trips() -> None:
    settings = EmailSettings.model_validate(
        {
            "handoff_phrases": ["talk to a human", "agent please"],
            "handoff_keywords": ["refund"],
            "handoff_sender_domains": ["vip.test"],
            "handoff_every_email": True,
            "office_hours": {
                "tz": "Europe/Paris",
                "weekly": {0: [["09:00", "12:00"], ["13:00", "17:00"]], 4: [["10:00", "16:00"]]},
                "holidays": ["2026-12-25"],
            },
            "outside_hours_policy": "hold_until_open",
            "marker_field": None,
            "priority": "High",
            "owner_id": "00G000000000001AAA",
            "comments_published": True,
            "reopen_window_days": 2.5,
            "subject_window_hours": 24,
            "subject_tags": ["Re", "AW"],
            "flood_max_messages": 5,
            "from_name": "Acme Support",
        }
    )
    form = to_form(settings)
    assert form["hours_0"] == "09:00-12:00, 13:00-17:00"
    assert form["hours_1"] == ""
    assert form["reopen_window_days"] == "2.5"
    assert form["subject_window_hours"] == "24"
    assert form["marker_field"] == ""
    assert from_form(form) == settings


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"marker_field": "no spaces"}, "Marker field: 'no spaces' is not a Salesforce field"),
        ({"flood_max_messages": "0"}, "Flood limit (messages): Input should be greater than"),
        ({"reopen_window_days": "soon"}, "Reopen window (days): Input should be a valid number"),
        ({"owner_id": "bob"}, "Case owner id: String should match pattern"),
        (
            {"office_hours_on": "on", "hours_2": "9 to 5"},
            "Office hours, Wednesday: write a span as 09:00-17:00, not '9 to 5'",
        ),
        (
            {"office_hours_on": "on", "hours_6": "9am-5pm"},
            "Office hours, Sunday: '9am-5pm' is not a span of 24-hour times",
        ),
        ({"office_hours_on": "on", "tz": "Mars/Olympus"}, "Office hours:"),
        ({"office_hours_on": "on", "holidays": "tomorrow"}, "Closed dates:"),
    ],
)
def test_mistakes_come_back_as_sentences_naming_the_field(
    changes: dict[str, str], problem: str
) -> None:
    form = {**to_form(EmailSettings()), **changes}
    with pytest.raises(SettingsFormInvalid) as raised:
        from_form(form)
    assert any(p.startswith(problem) for p in raised.value.problems), raised.value.problems


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"marker_field": "x y", "origin": ""}, {"marker_field"}),
        (
            {"office_hours_on": "on", "hours_1": "9am-5pm", "owner_id": "bob"},
            {"hours_1", "owner_id"},
        ),
        ({"office_hours_on": "on", "hours_3": "17:00-09:00"}, {"tz"}),
        ({"office_hours_on": "on", "tz": "Nowhere/Land"}, {"tz"}),
        ({"office_hours_on": "on", "holidays": "2026-13-01"}, {"holidays"}),
    ],
)
def test_every_mistake_marks_its_form_field(changes: dict[str, str], fields: set[str]) -> None:
    with pytest.raises(SettingsFormInvalid) as raised:
        from_form({**to_form(EmailSettings()), **changes})
    assert raised.value.fields == fields
    assert len(raised.value.problems) == len(fields)


def test_office_hours_off_ignores_the_hour_fields_and_empty_numbers_take_defaults() -> None:
    form = {**to_form(EmailSettings()), "hours_0": "nonsense", "flood_window_seconds": " "}
    read = from_form(form)
    assert read.office_hours is None
    assert read.flood_window_seconds == EmailSettings().flood_window_seconds


def test_unchecked_boxes_are_absent_from_a_post_and_read_as_off() -> None:
    form = to_form(EmailSettings(handoff_every_email=True))
    del form["handoff_every_email"]
    assert from_form(form).handoff_every_email is False


@pytest.mark.parametrize(
    ("url", "message", "problem", "expected"),
    [
        ("/a", None, None, "/a"),
        ("/a", "Saved.", None, "/a?message=Saved."),
        ("/a?x=1", None, "No & yes", "/a?x=1&problem=No+%26+yes"),
        ("/a#reply", None, "Empty", "/a?problem=Empty#reply"),
    ],
)
def test_notes_ride_in_the_query_before_the_fragment(
    url: str, message: str | None, problem: str | None, expected: str
) -> None:
    assert with_note(url, message, problem=problem) == expected


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        (None, ""),
        ("api", "escalated by the agent or an admin"),
        ("phrase: talk to a human", "the customer asked for a person: talk to a human"),
        ("keyword: refund", "keyword: refund"),
        ("something new: x", "something new: x"),
    ],
)
def test_handoff_reasons_read_as_sentences(stored: str | None, shown: str) -> None:
    assert handoff_reason(stored) == shown


@pytest.mark.parametrize(
    ("task", "label"),
    [
        ("sfbridge:handoff", "Create the Case"),
        ("sfbridge:send_reply", "Email a reply to the customer"),
        ("push_message", "Add a message to the Case"),
        ("sfbridge:log_call_batch", "log call batch"),
    ],
)
def test_job_labels(task: str, label: str) -> None:
    assert job_label(task) == label


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (None, ""),
        (dt.datetime(2026, 5, 1, 14, 3, 59, tzinfo=dt.UTC), "2026-05-01 14:03 UTC"),
        (
            dt.datetime(2026, 5, 1, 16, 3, tzinfo=dt.timezone(dt.timedelta(hours=2))),
            "2026-05-01 14:03 UTC",
        ),
    ],
)
def test_times_show_in_utc(value: dt.datetime | None, shown: str) -> None:
    assert when(value) == shown
