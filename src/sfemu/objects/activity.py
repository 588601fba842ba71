"""Task and Event (activities)."""

from __future__ import annotations

from sfemu.model import FieldDef, ObjectDef, PicklistValue
from sfemu.objects.builders import (
    boolean,
    date,
    datetime,
    make_object,
    number,
    owner,
    picklist,
    ref,
    text,
    textarea,
    values,
)

TASK_STATUSES = (
    PicklistValue(value="Not Started", label="Not Started", default=True),
    PicklistValue(value="In Progress", label="In Progress"),
    PicklistValue(value="Completed", label="Completed", closed=True),
    PicklistValue(value="Waiting on someone else", label="Waiting on someone else"),
    PicklistValue(value="Deferred", label="Deferred"),
)
TASK_PRIORITIES = values("High", "Normal", "Low", default="Normal")

WHO = ("Contact", "Lead")
WHAT = ("Account", "Opportunity", "Case")


def _subject() -> FieldDef:
    return FieldDef(
        name="Subject", label="Subject", type="combobox", length=255, search_group="name"
    )


def _who_what() -> list[FieldDef]:
    return [
        ref("WhoId", "Name ID", WHO, "Who"),
        ref("WhatId", "Related To ID", WHAT, "What"),
        ref("AccountId", "Account ID", ("Account",), "Account", createable=False, updateable=False),
        owner("Assigned To ID", ("User", "Group")),
    ]


def task() -> ObjectDef:
    return make_object(
        "Task",
        "Task",
        "Tasks",
        "00T",
        [
            _subject(),
            textarea("Description", "Comments"),
            *_who_what(),
            picklist("Status", "Status", TASK_STATUSES, nillable=False, restricted=True),
            picklist("Priority", "Priority", TASK_PRIORITIES, nillable=False, restricted=True),
            boolean("IsClosed", "Closed", createable=False, updateable=False),
            boolean("IsHighPriority", "High Priority", createable=False, updateable=False),
            date("ActivityDate", "Due Date Only"),
            datetime(
                "CompletedDateTime", "Completed Date/Time", createable=False, updateable=False
            ),
            picklist(
                "TaskSubtype",
                "Task Subtype",
                values("Task", "Email", "ListEmail", "Cadence", "Call", "LinkedIn"),
                restricted=True,
                updateable=False,
            ),
            picklist("Type", "Type", values("Call", "Email", "Meeting", "Other")),
            picklist(
                "CallType",
                "Call Type",
                values("Internal", "Inbound", "Outbound"),
                restricted=True,
                length=40,
            ),
            number("CallDurationInSeconds", "Call Duration", "int", length=8),
            text("CallObject", "Call Object Identifier", 255),
            text("CallDisposition", "Call Result", 255),
            boolean("IsReminderSet", "Reminder Set"),
            datetime("ReminderDateTime", "Reminder Date/Time"),
        ],
    )


def event() -> ObjectDef:
    return make_object(
        "Event",
        "Event",
        "Events",
        "00U",
        [
            _subject(),
            textarea("Description", "Description"),
            *_who_what(),
            text("Location", "Location", 255),
            boolean("IsAllDayEvent", "All-Day Event"),
            datetime("ActivityDateTime", "Due Date Time"),
            date("ActivityDate", "Due Date Only"),
            datetime("StartDateTime", "Start Date Time"),
            datetime("EndDateTime", "End Date Time"),
            number("DurationInMinutes", "Duration", "int", length=8),
            picklist(
                "ShowAs", "Show Time As", values("Busy", "OutOfOffice", "Free", default="Busy")
            ),
            picklist("Type", "Type", values("Call", "Email", "Meeting", "Other")),
            boolean("IsPrivate", "Private"),
        ],
    )
