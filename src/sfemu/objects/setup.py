"""Setup objects: User, Profile, Group (queues), Organization, and the read-only status
objects (CaseStatus, TaskStatus, LeadStatus, OpportunityStage) derived from picklists."""

from __future__ import annotations

from typing import Any

from sfemu.model import FieldDef, ObjectDef
from sfemu.objects.builders import (
    boolean,
    datetime,
    email,
    make_object,
    number,
    person_name,
    phone,
    picklist,
    record_name,
    ref,
    text,
    values,
)

READ_ONLY: dict[str, Any] = {"createable": False, "updateable": False, "deletable": False}


def user() -> ObjectDef:
    return make_object(
        "User",
        "User",
        "Users",
        "005",
        [
            text(
                "Username",
                "Username",
                80,
                nillable=False,
                unique=True,
                id_lookup=True,
                search_group="name",
            ),
            *person_name(),
            email("Email", "Email", 128, nillable=False),
            text("Alias", "Alias", 8, nillable=False),
            text("CommunityNickname", "Nickname", 40),
            text("Title", "Title", 80),
            text("Department", "Department", 80),
            text("CompanyName", "Company Name", 80),
            phone("Phone", "Phone"),
            phone("MobilePhone", "Mobile"),
            text("Extension", "Extension", 40),
            boolean("IsActive", "Active"),
            picklist("TimeZoneSidKey", "Time Zone", (), nillable=False),
            picklist("LocaleSidKey", "Locale", (), nillable=False),
            picklist(
                "EmailEncodingKey", "Email Encoding", values("UTF-8", "ISO-8859-1"), nillable=False
            ),
            picklist("LanguageLocaleKey", "Language", (), nillable=False),
            ref("ProfileId", "Profile ID", ("Profile",), "Profile", nillable=False),
            ref("ManagerId", "Manager ID", ("User",), "Manager"),
            picklist(
                "UserType",
                "User Type",
                values("Standard", "AutomatedProcess"),
                createable=False,
                updateable=False,
                defaulted_on_create=True,
            ),
            datetime("LastLoginDate", "Last Login", createable=False, updateable=False),
        ],
        deletable=False,
    )


def profile() -> ObjectDef:
    return make_object(
        "Profile",
        "Profile",
        "Profiles",
        "00e",
        [record_name()],
        **READ_ONLY,
    )


def group() -> ObjectDef:
    return make_object(
        "Group",
        "Group",
        "Groups",
        "00G",
        [
            record_name("Name", 40),
            text("DeveloperName", "Developer Name", 80),
            picklist("Type", "Type", values("Regular", "Queue"), nillable=False, restricted=True),
            email("Email", "Email"),
            boolean("DoesSendEmailToMembers", "Send Email to Members"),
        ],
    )


def organization() -> ObjectDef:
    return make_object(
        "Organization",
        "Organization",
        "Organizations",
        "00D",
        [
            record_name("Name", 80, search_group="text"),
            text("Division", "Division", 80),
            boolean("IsSandbox", "Is Sandbox"),
            picklist(
                "OrganizationType",
                "Edition",
                values("Developer Edition", "Enterprise Edition", "Unlimited Edition"),
            ),
            text("InstanceName", "Instance Name", 5),
            text("NamespacePrefix", "Namespace Prefix", 15),
            picklist("TimeZoneSidKey", "Default Time Zone", ()),
            picklist("LanguageLocaleKey", "Language", ()),
            picklist("DefaultLocaleSidKey", "Locale", ()),
            phone("Phone", "Phone"),
            text("Country", "Country", 80),
            text("PrimaryContact", "Primary Contact", 80),
        ],
        searchable=False,
        **READ_ONLY,
    )


def _status_object(
    name: str, label: str, plural: str, prefix: str, extra: list[FieldDef]
) -> ObjectDef:
    return make_object(
        name,
        label,
        plural,
        prefix,
        [
            text("ApiName", "Api Name", 255, nillable=False),
            text("MasterLabel", "Master Label", 255, nillable=False, name_field=True),
            number("SortOrder", "Sort Order", "int", length=9),
            *extra,
        ],
        searchable=False,
        **READ_ONLY,
    )


def case_status() -> ObjectDef:
    return _status_object(
        "CaseStatus",
        "Case Status Value",
        "Case Status Values",
        "01J",
        [boolean("IsClosed", "Closed"), boolean("IsDefault", "Default")],
    )


def task_status() -> ObjectDef:
    return _status_object(
        "TaskStatus",
        "Task Status Value",
        "Task Status Values",
        "01K",
        [boolean("IsClosed", "Closed"), boolean("IsDefault", "Default")],
    )


def lead_status() -> ObjectDef:
    return _status_object(
        "LeadStatus",
        "Lead Status Value",
        "Lead Status Values",
        "01L",
        [boolean("IsConverted", "Converted"), boolean("IsDefault", "Default")],
    )


def opportunity_stage() -> ObjectDef:
    return _status_object(
        "OpportunityStage",
        "Opportunity Stage",
        "Opportunity Stages",
        "01M",
        [
            boolean("IsActive", "Active"),
            boolean("IsClosed", "Closed"),
            boolean("IsWon", "Won"),
            number("DefaultProbability", "Probability (%)", "percent"),
            text("ForecastCategoryName", "Forecast Category", 40),
        ],
    )
