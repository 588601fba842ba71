"""Seeds and persistence round trips."""

import datetime as dt
import json
import re
from collections import Counter
from typing import Any

import pytest

from sfemu.model import FieldDef, PicklistValue
from sfemu.org import DEFAULT_ADMIN_PASSWORD, DEFAULT_ADMIN_USERNAME, Org
from sfemu.seeds import apply_seed


def _fixed_clock() -> dt.datetime:
    return dt.datetime(2024, 6, 1, 9, 0, tzinfo=dt.UTC)


def _json(data: dict[str, Any]) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(json.dumps(data))
    return result


def test_round_trip_keeps_everything() -> None:
    org = Org.default(clock=_fixed_clock)
    apply_seed(org, "demo")
    admin = org.admin_user_id
    org.add_custom_field(
        "Account",
        FieldDef(
            name="Tier__c",
            label="Tier",
            type="picklist",
            picklist=(PicklistValue(value="Gold", label="Gold", default=True),),
        ),
    )
    rep = org.create_user("rep@example.com", email="rep@example.com", last_name="Rep")
    org.hide_field("Case", "Description", rep)
    org.grant(rep, "SetAuditFields")
    case = next(iter(org.rows("Case")))["Id"]
    org.delete("Case", case, user_id=admin)
    org.search_lag_seconds = 5
    org.session_timeout_seconds = 900

    data = _json(org.to_dict())
    copy = Org.from_dict(data, clock=_fixed_clock)

    assert _json(copy.to_dict()) == data
    assert copy.org_id == org.org_id and copy.admin_user_id == admin
    assert (copy.search_lag_seconds, copy.session_timeout_seconds) == (5, 900)
    assert copy.check_password(DEFAULT_ADMIN_USERNAME, DEFAULT_ADMIN_PASSWORD) == admin
    assert copy.apps.keys() == org.apps.keys()
    assert copy.objects["Account"].fields["Tier__c"].picklist[0].default is True
    assert not copy.field_visible("Case", "Description", rep)
    assert copy.has_permission(rep, "SetAuditFields")
    for name in ("Account", "Contact", "Lead", "Case", "Opportunity", "Task", "User"):
        assert list(copy.rows(name, include_deleted=True)) == list(
            org.rows(name, include_deleted=True)
        )
    assert copy.get(case) is None and copy.get(case, include_deleted=True) is not None
    assert copy.deleted_records("Case", _fixed_clock(), _fixed_clock() + dt.timedelta(1))
    # Indexes were rebuilt, and counters go on where they stopped.
    contact = next(iter(copy.rows("Contact")))
    assert copy.lookup("Contact", "Email", contact["Email"].upper())
    new_case = copy.create("Case", {}, user_id=admin)
    assert new_case not in {r["Id"] for r in org.rows("Case", include_deleted=True)}
    assert copy.retrieve("Case", new_case, user_id=admin)["CaseNumber"] == "00001016"


def test_from_dict_rejects_unknown_formats() -> None:
    data = Org().to_dict()
    data["format"] = 99
    with pytest.raises(ValueError, match="unsupported"):
        Org.from_dict(data)


def test_demo_seed_is_deterministic_and_messy() -> None:
    first = Org.default(clock=_fixed_clock, org_id="00D5g0000001AAA")
    second = Org.default(clock=_fixed_clock, org_id="00D5g0000001AAA")
    apply_seed(first, "demo")
    apply_seed(second, "demo")
    records = first.to_dict()["records"]
    assert records == second.to_dict()["records"]
    counts = {name: len(rows) for name, rows in records.items()}
    assert counts["Account"] == 20 and counts["Contact"] >= 40 and counts["Lead"] == 20
    assert counts["User"] == 4  # admin + 3 reps
    phones = [r.get("Phone") for n in ("Account", "Contact", "Lead") for r in records[n]]
    for literal in ("(415) 555-0100", "+1 415.555.0100", "4155550100"):
        assert literal in phones
    assert any(p and p.startswith("+44 20 7946") for p in phones)
    digits = Counter(re.sub(r"\D", "", p or "")[-10:] for p in phones if p)
    assert max(digits.values()) >= 3  # a number shared by several records
    people = Counter(
        (r.get("FirstName"), r["LastName"], r.get("Email")) for r in records["Contact"]
    )
    assert sum(1 for n in people.values() if n > 1) >= 2  # exact duplicates
    cases = list(first.rows("Case"))
    assert any(c["IsClosed"] for c in cases) and any(not c["IsClosed"] for c in cases)
    opps = list(first.rows("Opportunity"))
    assert any(o["IsWon"] for o in opps) and any(not o["IsClosed"] for o in opps)


def test_minimal_seed_adds_nothing_and_unknown_seeds_fail() -> None:
    org = Org()
    before = org.to_dict()["records"]
    apply_seed(org, "minimal")
    assert org.to_dict()["records"] == before
    with pytest.raises(ValueError, match="unknown seed"):
        apply_seed(org, "huge")
