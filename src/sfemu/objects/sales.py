"""Account, Contact, Lead and Opportunity."""

from __future__ import annotations

from sfemu.model import FieldDef, ObjectDef, PicklistValue
from sfemu.objects.builders import (
    activity_children,
    boolean,
    date,
    email,
    make_object,
    number,
    owner,
    person_name,
    phone,
    picklist,
    record_name,
    ref,
    text,
    textarea,
    url,
    values,
)

INDUSTRIES = values(
    "Agriculture",
    "Banking",
    "Communications",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Finance",
    "Healthcare",
    "Hospitality",
    "Insurance",
    "Manufacturing",
    "Media",
    "Retail",
    "Technology",
    "Telecommunications",
    "Transportation",
    "Other",
)
SALUTATIONS = values("Mr.", "Ms.", "Mrs.", "Dr.", "Prof.")
LEAD_SOURCES = values("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")

#: Opportunity stages in the default org, with default probabilities.
STAGES = (
    PicklistValue(value="Prospecting", label="Prospecting", default=True, probability=10),
    PicklistValue(value="Qualification", label="Qualification", probability=10),
    PicklistValue(value="Needs Analysis", label="Needs Analysis", probability=20),
    PicklistValue(value="Value Proposition", label="Value Proposition", probability=50),
    PicklistValue(value="Id. Decision Makers", label="Id. Decision Makers", probability=60),
    PicklistValue(value="Perception Analysis", label="Perception Analysis", probability=70),
    PicklistValue(value="Proposal/Price Quote", label="Proposal/Price Quote", probability=75),
    PicklistValue(value="Negotiation/Review", label="Negotiation/Review", probability=90),
    PicklistValue(value="Closed Won", label="Closed Won", closed=True, won=True, probability=100),
    PicklistValue(value="Closed Lost", label="Closed Lost", closed=True, probability=0),
)

LEAD_STATUSES = (
    PicklistValue(value="Open - Not Contacted", label="Open - Not Contacted", default=True),
    PicklistValue(value="Working - Contacted", label="Working - Contacted"),
    PicklistValue(value="Closed - Converted", label="Closed - Converted", closed=True),
    PicklistValue(value="Closed - Not Converted", label="Closed - Not Converted"),
)


def _address(prefix: str, label: str) -> list[FieldDef]:
    return [
        textarea(f"{prefix}Street", f"{label} Street", 255),
        text(f"{prefix}City", f"{label} City", 40),
        text(f"{prefix}State", f"{label} State/Province", 80),
        text(f"{prefix}PostalCode", f"{label} Zip/Postal Code", 20),
        text(f"{prefix}Country", f"{label} Country", 80),
    ]


def account() -> ObjectDef:
    return make_object(
        "Account",
        "Account",
        "Accounts",
        "001",
        [
            record_name("Account Name"),
            text("AccountNumber", "Account Number", 40),
            picklist(
                "Type",
                "Account Type",
                values(
                    "Prospect",
                    "Customer - Direct",
                    "Customer - Channel",
                    "Channel Partner / Reseller",
                    "Installation Partner",
                    "Technology Partner",
                    "Other",
                ),
            ),
            picklist("Industry", "Industry", INDUSTRIES),
            phone("Phone", "Account Phone"),
            phone("Fax", "Account Fax"),
            url("Website", "Website"),
            textarea("Description", "Account Description"),
            *_address("Billing", "Billing"),
            *_address("Shipping", "Shipping"),
            number("NumberOfEmployees", "Employees", "int", length=8),
            number("AnnualRevenue", "Annual Revenue", "currency"),
            ref("ParentId", "Parent Account ID", ("Account",), "Parent"),
            owner("Owner ID"),
        ],
        children=[
            ("Contacts", "Contact", "AccountId"),
            ("Opportunities", "Opportunity", "AccountId"),
            ("Cases", "Case", "AccountId"),
            ("ChildAccounts", "Account", "ParentId"),
            *activity_children("WhatId"),
        ],
    )


def contact() -> ObjectDef:
    return make_object(
        "Contact",
        "Contact",
        "Contacts",
        "003",
        [
            picklist("Salutation", "Salutation", SALUTATIONS),
            *person_name(),
            ref("AccountId", "Account ID", ("Account",), "Account"),
            text("Title", "Title", 128),
            text("Department", "Department", 80),
            email("Email", "Email"),
            phone("Phone", "Business Phone"),
            phone("MobilePhone", "Mobile Phone"),
            phone("HomePhone", "Home Phone"),
            phone("OtherPhone", "Other Phone"),
            phone("Fax", "Business Fax"),
            *_address("Mailing", "Mailing"),
            picklist("LeadSource", "Lead Source", LEAD_SOURCES),
            date("Birthdate", "Birthdate"),
            ref("ReportsToId", "Reports To ID", ("Contact",), "ReportsTo"),
            boolean("HasOptedOutOfEmail", "Email Opt Out"),
            boolean("DoNotCall", "Do Not Call"),
            textarea("Description", "Contact Description"),
            owner("Owner ID"),
        ],
        children=[
            ("Cases", "Case", "ContactId"),
            *activity_children("WhoId"),
            ("ReportsTo", "Contact", "ReportsToId"),
        ],
    )


def lead() -> ObjectDef:
    return make_object(
        "Lead",
        "Lead",
        "Leads",
        "00Q",
        [
            picklist("Salutation", "Salutation", SALUTATIONS),
            *person_name(),
            text("Company", "Company", 255, nillable=False, search_group="name"),
            text("Title", "Title", 128),
            email("Email", "Email"),
            phone("Phone", "Phone"),
            phone("MobilePhone", "Mobile Phone"),
            phone("Fax", "Fax"),
            url("Website", "Website"),
            picklist("Status", "Status", LEAD_STATUSES, nillable=False, restricted=True),
            picklist("LeadSource", "Lead Source", LEAD_SOURCES),
            picklist("Industry", "Industry", INDUSTRIES),
            picklist("Rating", "Rating", values("Hot", "Warm", "Cold")),
            *_address("", "Address"),
            number("NumberOfEmployees", "Employees", "int", length=8),
            number("AnnualRevenue", "Annual Revenue", "currency"),
            textarea("Description", "Description"),
            boolean("IsConverted", "Converted", createable=False, updateable=False),
            date("ConvertedDate", "Converted Date", createable=False, updateable=False),
            ref(
                "ConvertedAccountId",
                "Converted Account ID",
                ("Account",),
                "ConvertedAccount",
                createable=False,
                updateable=False,
            ),
            ref(
                "ConvertedContactId",
                "Converted Contact ID",
                ("Contact",),
                "ConvertedContact",
                createable=False,
                updateable=False,
            ),
            ref(
                "ConvertedOpportunityId",
                "Converted Opportunity ID",
                ("Opportunity",),
                "ConvertedOpportunity",
                createable=False,
                updateable=False,
            ),
            boolean("HasOptedOutOfEmail", "Email Opt Out"),
            boolean("DoNotCall", "Do Not Call"),
            owner("Owner ID", ("User", "Group")),
        ],
        children=activity_children("WhoId"),
    )


def opportunity() -> ObjectDef:
    return make_object(
        "Opportunity",
        "Opportunity",
        "Opportunities",
        "006",
        [
            record_name("Name", 120),
            ref("AccountId", "Account ID", ("Account",), "Account"),
            picklist(
                "StageName",
                "Stage",
                STAGES,
                nillable=False,
                restricted=True,
                defaulted_on_create=False,
            ),
            date("CloseDate", "Close Date", nillable=False),
            number("Amount", "Amount", "currency"),
            number("Probability", "Probability (%)", "percent", defaulted_on_create=True),
            boolean("IsClosed", "Closed", createable=False, updateable=False),
            boolean("IsWon", "Won", createable=False, updateable=False),
            picklist(
                "Type",
                "Opportunity Type",
                values(
                    "Existing Customer - Upgrade",
                    "Existing Customer - Replacement",
                    "Existing Customer - Downgrade",
                    "New Customer",
                ),
            ),
            picklist("LeadSource", "Lead Source", LEAD_SOURCES),
            text("NextStep", "Next Step", 255),
            textarea("Description", "Description"),
            picklist(
                "ForecastCategoryName",
                "Forecast Category",
                values("Omitted", "Pipeline", "Best Case", "Commit", "Closed"),
            ),
            owner("Owner ID"),
        ],
        children=activity_children("WhatId"),
    )
