"""Seed data for an org: ``minimal`` (nothing extra) and ``demo`` (a small, messy CRM).

The demo data is deterministic (fixed random seed, dates relative to the org's clock) and
deliberately untidy, the way real orgs are: phone numbers in mixed formats, numbers shared
by several people (a company switchboard), exact duplicate people, open and closed work.
Every record goes through the normal validated ``Org.create`` path.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from typing import Any

from sfemu.org import Org

SEEDS = ("minimal", "demo")
_SEED = 20240601

_COMPANIES = (
    "Acme Robotics",
    "Blue Harbor Foods",
    "Cedar & Pine Legal",
    "Delta Freight",
    "Evergreen Clinics",
    "Foxglove Studios",
    "Granite Insurance",
    "Helios Solar",
    "Ironbridge Capital",
    "Juniper Schools",
    "Kestrel Aviation",
    "Lumen Optics",
    "Meridian Hotels",
    "Northwind Traders",
    "Orchid Retail",
    "Pioneer Telecom",
    "Quartz Analytics",
    "Redwood Manufacturing",
    "Summit Outdoor",
    "Tidewater Energy",
)
_FIRST = (
    "Ava",
    "Ben",
    "Chloe",
    "Daniel",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Isla",
    "Jamal",
    "Kira",
    "Liam",
    "Mei",
    "Noah",
    "Olga",
    "Pedro",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
)
_LAST = (
    "Anders",
    "Brooks",
    "Chen",
    "Diaz",
    "Evans",
    "Fischer",
    "Garcia",
    "Hughes",
    "Ito",
    "Johnson",
    "Kowalski",
    "Lopez",
    "Morgan",
    "Nakamura",
    "Okafor",
    "Patel",
    "Quinn",
    "Rossi",
    "Schmidt",
    "Turner",
)
_INDUSTRIES = ("Technology", "Retail", "Healthcare", "Finance", "Manufacturing", "Energy")
_REPS = (("Maya", "Patel"), ("Jonas", "Berg"), ("Lucia", "Romero"))
_SUBJECTS = (
    "Cannot log in to the portal",
    "Invoice shows the wrong amount",
    "Delivery arrived damaged",
    "Request to change billing address",
    "Device will not power on",
    "Refund not received",
    "Question about the contract renewal",
    "Password reset email never arrives",
)


def _formats(area: str, exchange: str, line: str) -> list[str]:
    return [
        f"({area}) {exchange}-{line}",
        f"+1 {area}.{exchange}.{line}",
        f"{area}{exchange}{line}",
        f"+1 ({area}) {exchange}-{line}",
        f"{area}-{exchange}-{line}",
    ]


def _us_phone(rng: random.Random, number: int) -> str:
    """A fictional US number (555-01xx) in one of several real-world formats."""
    area = ("415", "212", "312", "617")[number // 100 % 4]
    return rng.choice(_formats(area, "555", f"{100 + number % 100:04d}"))


def _uk_phone(number: int) -> str:
    return f"+44 20 7946 {number % 1000:04d}"


def apply_seed(org: Org, name: str) -> None:
    """Load seed ``name`` into ``org``.

    Raises:
        ValueError: for an unknown seed name.
    """
    if name not in _APPLIERS:
        raise ValueError(f"unknown seed {name!r}; known: {', '.join(SEEDS)}")
    _APPLIERS[name](org)


def _minimal(org: Org) -> None:
    """Nothing beyond what every org has (admin, profiles, status values)."""


def _demo(org: Org) -> None:
    rng = random.Random(_SEED)
    admin = org.admin_user_id
    today = org.now().date()
    domain = f"demo-{org.org_id[9:15].lower()}.sfemu.example.com"
    reps = [
        org.create_user(
            f"{first.lower()}.{last.lower()}@{domain}",
            email=f"{first.lower()}.{last.lower()}@{domain}",
            first_name=first,
            last_name=last,
        )
        for first, last in _REPS
    ]
    queue = org.create("Group", {"Name": "Support Queue", "Type": "Queue"}, user_id=admin)

    def create(object_name: str, values: dict[str, Any]) -> str:
        return org.create(object_name, values, user_id=admin)

    accounts = []
    switchboards = []
    for i, company in enumerate(_COMPANIES):
        board = _uk_phone(955 + i) if i % 7 == 3 else _us_phone(rng, i)
        if i == 0:
            board = "(415) 555-0100"
        switchboards.append(board)
        accounts.append(
            create(
                "Account",
                {
                    "Name": company,
                    "Phone": board,
                    "Industry": rng.choice(_INDUSTRIES),
                    "Website": f"https://www.{company.split()[0].lower()}.example.com",
                    "Type": rng.choice(("Prospect", "Customer - Direct", "Customer - Channel")),
                    "OwnerId": reps[i % len(reps)],
                },
            )
        )

    contacts = []
    for i in range(40):
        first, last = _FIRST[i % 20], _LAST[(i * 7) % 20]
        account_index = i % len(accounts)
        company = _COMPANIES[account_index].split()[0].lower()
        # Every fifth contact shares the company switchboard instead of a direct line.
        phone = switchboards[account_index] if i % 5 == 0 else _us_phone(rng, 20 + i)
        if i == 20:
            phone = "+1 415.555.0100"  # the Acme switchboard, written differently
        contacts.append(
            create(
                "Contact",
                {
                    "FirstName": first,
                    "LastName": last,
                    "Email": f"{first.lower()}.{last.lower()}@{company}.example.com",
                    "Phone": phone,
                    "MobilePhone": _us_phone(rng, 60 + i) if i % 3 == 0 else None,
                    "Title": rng.choice(("CTO", "Office Manager", "Buyer", "Engineer", None)),
                    "AccountId": accounts[account_index],
                    "OwnerId": reps[i % len(reps)],
                },
            )
        )
    # Exact duplicates: the same person entered twice (as happens with imports).
    for original in contacts[:3]:
        record = org.retrieve("Contact", original, user_id=admin)
        create(
            "Contact",
            {
                k: record[k]
                for k in ("FirstName", "LastName", "Email", "Phone", "AccountId", "OwnerId")
            },
        )

    for i in range(20):
        first, last = _FIRST[(i * 3) % 20], _LAST[(i * 11 + 5) % 20]
        # Some leads call from a number a contact already has (maybe formatted differently).
        if i == 0:
            phone = "4155550100"
        elif i % 4 == 0:
            phone = _us_phone(rng, 20 + i)
        elif i % 6 == 5:
            phone = _uk_phone(100 + i)
        else:
            phone = _us_phone(rng, 80 + i)
        create(
            "Lead",
            {
                "FirstName": first,
                "LastName": last,
                "Company": f"{last} {rng.choice(('Consulting', 'Labs', 'Group', 'Partners'))}",
                "Email": f"{first.lower()}@{last.lower()}-mail.example.com",
                "Phone": phone,
                "Status": rng.choice(
                    ("Open - Not Contacted", "Working - Contacted", "Closed - Not Converted")
                ),
                "LeadSource": rng.choice(("Web", "Phone Inquiry", "Partner Referral")),
                "OwnerId": queue if i % 5 == 4 else reps[i % len(reps)],
            },
        )

    stages = (
        "Prospecting",
        "Qualification",
        "Proposal/Price Quote",
        "Negotiation/Review",
        "Closed Won",
        "Closed Lost",
    )
    for i in range(12):
        stage = stages[i % len(stages)]
        create(
            "Opportunity",
            {
                "Name": f"{_COMPANIES[i]} - {rng.choice(('Renewal', 'Expansion', 'New Deal'))}",
                "AccountId": accounts[i],
                "StageName": stage,
                "CloseDate": (today + dt.timedelta(days=rng.randint(-60, 90))).isoformat(),
                "Amount": float(rng.randrange(5_000, 250_000, 500)),
                "OwnerId": reps[i % len(reps)],
            },
        )

    for i in range(15):
        closed = i % 3 == 2
        case_id = create(
            "Case",
            {
                "Subject": _SUBJECTS[i % len(_SUBJECTS)],
                "Description": "Customer reported the problem by phone.",
                "Origin": rng.choice(("Phone", "Email", "Web")),
                "Priority": rng.choice(("High", "Medium", "Low")),
                "Status": "Closed" if closed else rng.choice(("New", "Working", "Escalated")),
                "ContactId": contacts[i * 2],
                "OwnerId": queue if i % 4 == 3 else reps[i % len(reps)],
            },
        )
        if i % 2 == 0:
            create(
                "CaseComment",
                {
                    "ParentId": case_id,
                    "CommentBody": "Called the customer back.",
                    "IsPublished": True,
                },
            )
    for i in range(6):
        create(
            "Task",
            {
                "Subject": f"Call {rng.choice(('Inbound', 'Outbound'))}",
                "WhoId": contacts[i],
                "Status": "Completed",
                "CallType": rng.choice(("Inbound", "Outbound")),
                "CallDurationInSeconds": rng.randint(30, 900),
                "ActivityDate": (today - dt.timedelta(days=i)).isoformat(),
                "OwnerId": reps[i % len(reps)],
            },
        )


_APPLIERS: dict[str, Callable[[Org], None]] = {"minimal": _minimal, "demo": _demo}
