"""Derived fields and record rules (what Salesforce computes on save)."""

import datetime as dt
from typing import Any

import pytest

from sfemu.model import ApiError
from sfemu.org import Org


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime(2024, 3, 1, 10, 15, 0, 123000, tzinfo=dt.UTC)

    def __call__(self) -> dt.datetime:
        return self.now

    def tick(self, seconds: float = 60) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture(name="clock")
def _clock() -> Clock:
    return Clock()


@pytest.fixture(name="org")
def _org(clock: Clock) -> Org:
    return Org.default(clock=clock)


def _new(org: Org, object_name: str, **values: Any) -> str:
    return org.create(object_name, values, user_id=org.admin_user_id)


def _read(org: Org, object_name: str, record_id: str) -> dict[str, Any]:
    return org.retrieve(object_name, record_id, user_id=org.admin_user_id)


def test_case_numbers_are_sequential_and_zero_padded(org: Org) -> None:
    numbers = [_read(org, "Case", _new(org, "Case"))["CaseNumber"] for _ in range(3)]
    assert numbers == ["00001001", "00001002", "00001003"]


def test_case_closing_and_reopening(org: Org, clock: Clock) -> None:
    case = _new(org, "Case", Subject="s")
    assert _read(org, "Case", case)["ClosedDate"] is None
    clock.tick()
    org.update("Case", case, {"Status": "Closed"}, user_id=org.admin_user_id)
    closed = _read(org, "Case", case)
    assert closed["IsClosed"] is True
    assert closed["ClosedDate"] == clock.now
    clock.tick()
    org.update("Case", case, {"Subject": "still closed"}, user_id=org.admin_user_id)
    assert _read(org, "Case", case)["ClosedDate"] == closed["ClosedDate"]
    org.update("Case", case, {"Status": "Working"}, user_id=org.admin_user_id)
    reopened = _read(org, "Case", case)
    assert (reopened["IsClosed"], reopened["ClosedDate"]) == (False, None)


def test_case_created_closed_has_a_closed_date(org: Org, clock: Clock) -> None:
    case = _read(org, "Case", _new(org, "Case", Status="Closed"))
    assert case["IsClosed"] is True and case["ClosedDate"] is not None


def test_case_account_comes_from_the_contact(org: Org) -> None:
    account = _new(org, "Account", Name="Acme")
    other = _new(org, "Account", Name="Other")
    contact = _new(
        org, "Contact", LastName="Doe", AccountId=account, Email="doe@acme.example", Phone="1"
    )
    case = _read(org, "Case", _new(org, "Case", ContactId=contact))
    assert case["AccountId"] == account
    assert (case["ContactEmail"], case["ContactPhone"]) == ("doe@acme.example", "1")
    explicit = _read(org, "Case", _new(org, "Case", ContactId=contact, AccountId=other))
    assert explicit["AccountId"] == other
    assert _read(org, "Case", _new(org, "Case"))["AccountId"] is None


def test_defaults_and_owner(org: Org) -> None:
    rep = org.create_user("rep@x.example", email="rep@x.example", last_name="Rep")
    case = _read(org, "Case", org.create("Case", {}, user_id=rep))
    assert (case["Status"], case["Priority"], case["IsEscalated"]) == ("New", "Medium", False)
    assert case["OwnerId"] == rep
    assert case["CreatedById"] == rep and case["LastModifiedById"] == rep
    task = _read(org, "Task", org.create("Task", {"Subject": "Call"}, user_id=rep))
    assert (task["Status"], task["Priority"], task["IsClosed"]) == ("Not Started", "Normal", False)
    lead = _read(org, "Lead", _new(org, "Lead", LastName="L", Company="C"))
    assert lead["Status"] == "Open - Not Contacted"


def test_owner_can_be_a_queue(org: Org) -> None:
    queue = _new(org, "Group", Name="Support", Type="Queue")
    assert queue.startswith("00G")
    case = _read(org, "Case", _new(org, "Case", OwnerId=queue))
    assert case["OwnerId"] == queue
    with pytest.raises(ApiError) as caught:
        _new(org, "Account", Name="x", OwnerId=queue)  # Account owners are users only
    assert caught.value.error_code == "INVALID_CROSS_REFERENCE_KEY"


def test_compound_names(org: Org) -> None:
    contact = _new(org, "Contact", FirstName="Ada", LastName="Lovelace")
    assert _read(org, "Contact", contact)["Name"] == "Ada Lovelace"
    org.update("Contact", contact, {"FirstName": None}, user_id=org.admin_user_id)
    assert _read(org, "Contact", contact)["Name"] == "Lovelace"
    lead = _new(org, "Lead", FirstName="Bo", LastName="Li", Company="X")
    assert _read(org, "Lead", lead)["Name"] == "Bo Li"
    with pytest.raises(ApiError) as caught:
        _new(org, "Contact", LastName="x", Name="Not allowed")
    assert caught.value.error_code == "INVALID_FIELD_FOR_INSERT_UPDATE"


@pytest.mark.parametrize(
    ("status", "closed"),
    [("Not Started", False), ("In Progress", False), ("Completed", True), ("Deferred", False)],
)
def test_task_closed_follows_status(org: Org, status: str, closed: bool) -> None:
    task = _read(org, "Task", _new(org, "Task", Status=status))
    assert task["IsClosed"] is closed
    assert (task["CompletedDateTime"] is not None) is closed


def test_task_account_is_derived_from_what_then_who(org: Org) -> None:
    acme = _new(org, "Account", Name="Acme")
    globex = _new(org, "Account", Name="Globex")
    contact = _new(org, "Contact", LastName="Doe", AccountId=acme)
    lead = _new(org, "Lead", LastName="L", Company="C")
    opp = _new(
        org,
        "Opportunity",
        Name="Deal",
        StageName="Prospecting",
        CloseDate="2024-05-01",
        AccountId=globex,
    )
    case = _new(org, "Case", ContactId=contact)
    cases = [
        ({"WhoId": contact}, acme),
        ({"WhatId": globex}, globex),
        ({"WhoId": contact, "WhatId": opp}, globex),
        ({"WhatId": case}, acme),
        ({"WhoId": lead}, None),
        ({}, None),
    ]
    for values, expected in cases:
        task = org.create("Task", {"Subject": "t", **values}, user_id=org.admin_user_id)
        assert _read(org, "Task", task)["AccountId"] == expected, values
    task = _new(org, "Task", WhoId=contact)
    org.update("Task", task, {"WhatId": globex}, user_id=org.admin_user_id)
    assert _read(org, "Task", task)["AccountId"] == globex


def test_task_who_must_be_a_contact_or_lead(org: Org) -> None:
    account = _new(org, "Account", Name="Acme")
    with pytest.raises(ApiError) as caught:
        _new(org, "Task", WhoId=account)
    assert caught.value.error_code == "INVALID_CROSS_REFERENCE_KEY"
    assert caught.value.fields == ["WhoId"]


def test_call_task_fields(org: Org) -> None:
    task = _read(
        org,
        "Task",
        _new(
            org,
            "Task",
            Subject="Inbound call",
            CallType="Inbound",
            CallDurationInSeconds=95,
            CallObject="call-123",
            CallDisposition="Answered",
            ActivityDate="2024-03-01",
        ),
    )
    assert task["TaskSubtype"] == "Call"
    assert task["CallDurationInSeconds"] == 95
    assert task["ActivityDate"] == dt.date(2024, 3, 1)
    with pytest.raises(ApiError) as caught:
        org.update("Task", task["Id"], {"TaskSubtype": "Email"}, user_id=org.admin_user_id)
    assert caught.value.error_code == "INVALID_FIELD_FOR_INSERT_UPDATE"


@pytest.mark.parametrize(
    ("stage", "closed", "won", "probability"),
    [
        ("Prospecting", False, False, 10.0),
        ("Negotiation/Review", False, False, 90.0),
        ("Closed Won", True, True, 100.0),
        ("Closed Lost", True, False, 0.0),
    ],
)
def test_opportunity_stage_drives_flags(
    org: Org, stage: str, closed: bool, won: bool, probability: float
) -> None:
    opp = _read(
        org,
        "Opportunity",
        _new(org, "Opportunity", Name="D", StageName=stage, CloseDate="2024-05-01"),
    )
    assert (opp["IsClosed"], opp["IsWon"], opp["Probability"]) == (closed, won, probability)


def test_opportunity_probability_follows_stage_unless_given(org: Org) -> None:
    opp = _new(
        org,
        "Opportunity",
        Name="D",
        StageName="Prospecting",
        CloseDate="2024-05-01",
        Probability=42,
    )
    assert _read(org, "Opportunity", opp)["Probability"] == 42.0
    org.update("Opportunity", opp, {"StageName": "Closed Won"}, user_id=org.admin_user_id)
    after = _read(org, "Opportunity", opp)
    assert (after["Probability"], after["IsWon"]) == (100.0, True)


def test_email_message_after_send_is_mostly_read_only(org: Org) -> None:
    case = _new(org, "Case")
    draft = _new(org, "EmailMessage", ParentId=case, Subject="Hi", Status="5")
    org.update("EmailMessage", draft, {"Subject": "Hello"}, user_id=org.admin_user_id)
    sent = _new(
        org,
        "EmailMessage",
        ParentId=case,
        Subject="Hi",
        Status="3",
        FromAddress="a@b.example",
        Incoming=False,
    )
    org.update(
        "EmailMessage",
        sent,
        {"IsExternallyVisible": True, "Status": "1"},
        user_id=org.admin_user_id,
    )
    with pytest.raises(ApiError) as caught:
        org.update("EmailMessage", sent, {"Subject": "changed"}, user_id=org.admin_user_id)
    assert caught.value.error_code == "INVALID_FIELD_FOR_INSERT_UPDATE"
    assert caught.value.fields == ["Subject"]
    assert _read(org, "EmailMessage", sent)["Subject"] == "Hi"


def test_audit_fields_need_the_permission(org: Org) -> None:
    admin = org.admin_user_id
    when = "2020-01-02T03:04:05.000+0000"
    values = {"Subject": "old", "CreatedDate": when, "CreatedById": admin}
    with pytest.raises(ApiError):
        org.create("Case", values, user_id=admin)
    org.grant(admin, "SetAuditFields")
    case = _read(org, "Case", org.create("Case", values, user_id=admin))
    assert case["CreatedDate"] == dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert case["LastModifiedDate"] == case["CreatedDate"]
    with pytest.raises(ApiError) as caught:  # never on update
        org.update("Case", case["Id"], {"CreatedDate": when}, user_id=admin)
    assert caught.value.error_code == "INVALID_FIELD_FOR_INSERT_UPDATE"


def test_update_stamps_modification(org: Org, clock: Clock) -> None:
    rep = org.create_user("rep@x.example", email="rep@x.example", last_name="Rep")
    case = _new(org, "Case")
    created = _read(org, "Case", case)
    clock.tick(30)
    org.update("Case", case, {"Subject": "x"}, user_id=rep)
    updated = _read(org, "Case", case)
    assert updated["CreatedDate"] == created["CreatedDate"]
    assert updated["LastModifiedDate"] > created["LastModifiedDate"]
    assert updated["SystemModstamp"] == updated["LastModifiedDate"]
    assert updated["LastModifiedById"] == rep


def test_soft_delete_and_windows(org: Org, clock: Clock) -> None:
    start = clock.now
    first = _new(org, "Case")
    clock.tick(60)
    middle = clock.now
    second = _new(org, "Case")
    clock.tick(60)
    org.delete("Case", first, user_id=org.admin_user_id)
    deleted_at = clock.now
    clock.tick(60)
    assert org.get(first) is None
    assert org.get(first, include_deleted=True)["IsDeleted"] is True  # type: ignore[index]
    assert [r["Id"] for r in org.rows("Case")] == [second]
    assert [r["Id"] for r in org.rows("Case", include_deleted=True)] == [first, second]
    assert org.updated_ids("Case", start, clock.now) == [second]
    assert org.updated_ids("Case", start, middle) == []
    assert org.deleted_records("Case", start, clock.now) == [(first, deleted_at)]
    assert org.deleted_records("Case", start, middle) == []
    assert org.deleted_records("Account", start, clock.now) == []


def test_deleting_a_case_deletes_its_comments(org: Org) -> None:
    case = _new(org, "Case")
    comment = _new(org, "CaseComment", ParentId=case, CommentBody="hi")
    org.delete("Case", case, user_id=org.admin_user_id)
    assert org.get(comment) is None
    assert org.get(comment, include_deleted=True) is not None


def test_case_comments_field_writes_through_to_a_comment(org: Org) -> None:
    case = _new(org, "Case", Comments="first note")
    comments = org.find_by_field("CaseComment", "ParentId", case)
    assert [c["CommentBody"] for c in comments] == ["first note"]
    assert _read(org, "Case", case)["Comments"] is None
    org.update("Case", case, {"Comments": "second"}, user_id=org.admin_user_id)
    assert len(org.find_by_field("CaseComment", "ParentId", case)) == 2


def test_case_comment_parent_cannot_change(org: Org) -> None:
    case, other = _new(org, "Case"), _new(org, "Case")
    comment = _new(org, "CaseComment", ParentId=case, CommentBody="x")
    with pytest.raises(ApiError) as caught:
        org.update("CaseComment", comment, {"ParentId": other}, user_id=org.admin_user_id)
    assert caught.value.error_code == "INVALID_FIELD_FOR_INSERT_UPDATE"
    with pytest.raises(ApiError) as caught:
        _new(org, "CaseComment", CommentBody="orphan")
    assert caught.value.error_code == "REQUIRED_FIELD_MISSING"


def test_status_objects_are_read_only_rows(org: Org) -> None:
    statuses = {r["ApiName"]: r["IsClosed"] for r in org.rows("CaseStatus")}
    assert statuses == {"New": False, "Working": False, "Escalated": False, "Closed": True}
    stages = {
        r["ApiName"]: (r["IsWon"], r["DefaultProbability"]) for r in org.rows("opportunitystage")
    }
    assert stages["Closed Won"] == (True, 100.0)
    assert {r["ApiName"] for r in org.rows("TaskStatus") if r["IsClosed"]} == {"Completed"}
    row = next(iter(org.rows("CaseStatus")))
    with pytest.raises(ApiError) as caught:
        org.update("CaseStatus", row["Id"], {"MasterLabel": "x"}, user_id=org.admin_user_id)
    assert caught.value.error_code == "INVALID_TYPE_FOR_OPERATION"
