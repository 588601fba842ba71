"""The periodic reconciliation notices what a webhook would have said: rep replies, closure,
and a Case reopened in Salesforce while its session is resolved (within the watch window)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from sfbridge.services.email import sessions as email_api
from sfbridge.services.email import sync
from sfbridge.services.email.settings import EmailSettings
from sfbridge.store.email_sessions import SessionStatus
from tests.integration.test_email_harness import (  # noqa: F401  (fixtures)
    Harness,
    RecordingTransport,
    email_app_fixture,
    harness_fixture,
    make_mail,
    salesforce_fixture,
)


async def resolved_case(h: Harness) -> tuple[str, str]:
    """A session handed off, then resolved by the reconciliation (its Case closed)."""
    await h.receive(make_mail(body="My printer is on fire."))
    session_id = (await email_api.list_sessions(h.db, h.workspace_id))[0].id
    await email_api.escalate(h.rt, h.workspace_id, session_id)
    await h.drain()
    case_id = (await email_api.get_session(h.db, h.workspace_id, session_id)).session.case_id
    assert case_id is not None
    h.sf.control("PATCH", f"/records/Case/{case_id}", {"Status": "Closed"})
    assert await sync.reconcile(h.rt) == 0
    assert await status(h, session_id) == SessionStatus.RESOLVED
    return session_id, case_id


async def status(h: Harness, session_id: str) -> SessionStatus:
    return (await email_api.get_session(h.db, h.workspace_id, session_id)).session.status


def reopen_with_reply(h: Harness, case_id: str, text: str) -> None:
    """A rep reopens the Case in Salesforce and answers publicly; no callout reaches us."""
    rep = h.sf.control("POST", "/users", {"username": "rep@acme.test", "last_name": "Rep"})
    h.sf.control("PATCH", f"/records/Case/{case_id}", {"Status": "Working"})
    h.sf.control(
        "POST",
        "/records/CaseComment",
        {"ParentId": case_id, "CommentBody": text, "IsPublished": True, "_user_id": rep["id"]},
    )


async def test_a_case_reopened_in_salesforce_hands_the_session_off_again(
    harness: Harness,
) -> None:
    h = harness
    session_id, case_id = await resolved_case(h)
    reopen_with_reply(h, case_id, "Reopening: the technician found another fault.")
    assert await sync.reconcile(h.rt) == 1
    assert await status(h, session_id) == SessionStatus.HANDED_OFF
    await h.drain()
    transport = h.rt.transport
    assert isinstance(transport, RecordingTransport)
    assert len(transport.sent) == 1
    assert await sync.reconcile(h.rt) == 0  # nothing new the second time
    await h.drain()
    assert len(transport.sent) == 1
    detail = await email_api.get_session(h.db, h.workspace_id, session_id)
    assert detail.session.resolved_at is None
    assert [m.text for m in detail.messages if m.author_kind == "rep"] == [
        "Reopening: the technician found another fault."
    ]


@pytest.mark.parametrize(
    ("days_later", "watch_days", "noticed"),
    [
        (0, 14, True),
        (13, 14, True),  # the default window: two weeks
        (15, 14, False),  # too old: only a webhook would notice now
        (2, 1, False),
        (0, 0, False),  # watching switched off
    ],
)
async def test_resolved_sessions_are_watched_for_a_bounded_time(
    harness: Harness, days_later: int, watch_days: int, noticed: bool
) -> None:
    h = harness
    if watch_days != 14:
        await email_api.put_settings(
            h.db, h.workspace_id, EmailSettings(reopen_watch_days=watch_days)
        )
    session_id, case_id = await resolved_case(h)
    reopen_with_reply(h, case_id, "Back on it.")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=days_later)
    rt = dataclasses.replace(h.rt, clock=lambda: later)
    assert await sync.reconcile(rt) == (1 if noticed else 0)
    expected = SessionStatus.HANDED_OFF if noticed else SessionStatus.RESOLVED
    assert await status(h, session_id) == expected


async def test_a_resolved_case_still_closed_costs_one_query_and_changes_nothing(
    harness: Harness,
) -> None:
    h = harness
    session_id, _ = await resolved_case(h)
    h.sf.control("DELETE", "/counters")
    assert await sync.reconcile(h.rt) == 0
    counters = h.sf.control("GET", "/counters")
    assert counters["total"] == 1, counters
    assert await status(h, session_id) == SessionStatus.RESOLVED


def test_the_watch_window_is_two_weeks_by_default_and_bounded() -> None:
    assert EmailSettings().reopen_watch_days == 14
    with pytest.raises(ValueError, match="less than or equal"):
        EmailSettings(reopen_watch_days=366)
