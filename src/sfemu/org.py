"""One emulated Salesforce org: schema, records, users, connected apps and the DML rules.

``Org`` implements :class:`sfemu.model.DataSource` for the query engines and the write API
the REST layer calls (``create``, ``update``, ``delete``, ``retrieve``, ``upsert`` ...).
Writes validate in Salesforce's order (see :mod:`sfemu.dml`), compute derived fields
(:mod:`sfemu.rules`), keep equality indexes (:mod:`sfemu.indexes`) and, once the outermost
transaction commits, tell listeners (:class:`sfemu.events.WriteEvent`).

Stored records are the org's own dicts; ``rows``, ``get`` and ``lookup`` return them without
copying (for speed): treat them as read-only. ``retrieve`` and ``find_by_field`` return copies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sfemu import dml, persistence, rules
from sfemu.model import ApiError, FieldDef
from sfemu.reads import entity_is_deleted
from sfemu.state import Clock, not_found
from sfemu.writes import MultipleMatches, OrgWrites

#: Permissions the org's admin holds. Grant ``SetAuditFields`` explicitly when needed.
ADMIN_PERMISSIONS = frozenset(
    {
        "ApiEnabled",
        "ViewAllData",
        "ModifyAllData",
        "ViewSetup",
        "ManageUsers",
        "CustomizeApplication",
    }
)
#: Default permissions of users made with :meth:`Org.create_user`.
USER_PERMISSIONS = frozenset({"ApiEnabled"})

DEFAULT_ADMIN_USERNAME = "admin@sfemu.example.com"
DEFAULT_ADMIN_PASSWORD = "sfemu-admin-1"  # noqa: S105  # documented demo credential
DEFAULT_CALLBACK_URLS = (
    "http://localhost:8000/oauth/callback",
    "http://127.0.0.1:8000/oauth/callback",
)


__all__ = [
    "ADMIN_PERMISSIONS",
    "DEFAULT_ADMIN_PASSWORD",
    "DEFAULT_ADMIN_USERNAME",
    "USER_PERMISSIONS",
    "Clock",
    "MultipleMatches",
    "Org",
    "entity_is_deleted",
    "not_found",
]


class Org(OrgWrites):
    """An in-memory Salesforce org.

    The API is spread over a chain of classes, one module each: :class:`sfemu.state.OrgState`
    (schema, records, indexes, DataSource, transactions, listeners, custom fields),
    :class:`sfemu.access.OrgAccess` (permissions, field-level security, passwords, apps),
    :class:`sfemu.reads.OrgReads` (retrieve, find, change windows),
    :class:`sfemu.writes.OrgWrites` (DML) and this class (bootstrap, default org, users,
    persistence).

    Args:
        name: the organization name.
        org_id: the 00D id (15 or 18 chars); random when omitted.
        is_sandbox: shown by ``Organization.IsSandbox``.
        clock: returns "now" (aware); tests pass a movable clock.
        admin_username: the admin's username (unique per emulator); derived from the org id
            when omitted.
    """

    def __init__(
        self,
        name: str = "sfemu Org",
        *,
        org_id: str | None = None,
        is_sandbox: bool = False,
        clock: Clock | None = None,
        admin_username: str | None = None,
    ) -> None:
        self._init_state(name, org_id=org_id, is_sandbox=is_sandbox, clock=clock)
        self._bootstrap(admin_username)

    def _bootstrap(self, admin_username: str | None) -> None:
        now = self.now()
        admin_id = self.ids.mint("005")
        self.admin_user_id = admin_id
        admin_profile = self._insert_system("Profile", {"Name": "System Administrator"}, now)
        self._insert_system("Profile", {"Name": "Standard User"}, now)
        self._insert_system(
            "Organization",
            {
                "Id": self.org_id,
                "Name": self.name,
                "IsSandbox": self.is_sandbox,
                "OrganizationType": "Developer Edition",
                "InstanceName": "EMU" + self.ids.pod.upper(),
                "TimeZoneSidKey": "America/Los_Angeles",
                "LanguageLocaleKey": "en_US",
                "DefaultLocaleSidKey": "en_US",
            },
            now,
        )
        username = admin_username or f"admin.{self.org_id[:15].lower()}@sfemu.example.com"
        self._insert_system(
            "User",
            {
                "Id": admin_id,
                **_user_values(
                    username,
                    email=username,
                    first_name="Admin",
                    last_name="User",
                    time_zone="America/Los_Angeles",
                    is_active=True,
                    profile_id=admin_profile,
                ),
            },
            now,
        )
        self._permissions[admin_id] = set(ADMIN_PERMISSIONS)
        self._insert_status_rows(now)

    def _insert_status_rows(self, now: dt.datetime) -> None:
        targets = (
            ("CaseStatus", "Case", "Status"),
            ("TaskStatus", "Task", "Status"),
            ("LeadStatus", "Lead", "Status"),
            ("OpportunityStage", "Opportunity", "StageName"),
        )
        for status_object, source, field_name in targets:
            field = self.objects[source].fields[field_name]
            for order, option in enumerate(field.picklist, start=1):
                row: dict[str, Any] = {
                    "ApiName": option.value,
                    "MasterLabel": option.label,
                    "SortOrder": order,
                }
                if status_object == "OpportunityStage":
                    row |= {
                        "IsActive": option.active,
                        "IsClosed": option.closed,
                        "IsWon": option.won,
                        "DefaultProbability": float(option.probability or 0),
                        "ForecastCategoryName": "Closed"
                        if option.won
                        else ("Omitted" if option.closed else "Pipeline"),
                    }
                elif status_object == "LeadStatus":
                    row |= {"IsConverted": option.closed, "IsDefault": option.default}
                else:
                    row |= {"IsClosed": option.closed, "IsDefault": option.default}
                self._insert_system(status_object, row, now)

    def _insert_system(self, object_name: str, data: Mapping[str, Any], now: dt.datetime) -> str:
        """Store a record without validation, events or undo (bootstrap and seeds)."""
        obj = self.objects[object_name]
        record = dml.blank_record(obj)
        record.update(data)
        record_id = record.get("Id") or self.ids.mint(obj.key_prefix)
        author = self.admin_user_id or record_id
        self._stamp_new(obj, record, record_id, author, now)
        rules.apply(obj, None, record, set(data), get=self._get_any, now=now)
        self._records[obj.name][record_id] = record
        self._indexes[obj.name].add(record)
        return str(record_id)

    @classmethod
    def default(
        cls,
        *,
        name: str = "sfemu Demo Org",
        admin_username: str = DEFAULT_ADMIN_USERNAME,
        admin_password: str = DEFAULT_ADMIN_PASSWORD,
        client_id: str | None = None,
        client_secret: str | None = None,
        callback_urls: tuple[str, ...] = DEFAULT_CALLBACK_URLS,
        clock: Clock | None = None,
        org_id: str | None = None,
    ) -> Org:
        """The org sfbridge expects: its custom fields, one connected app, a known admin.

        Custom fields: ``Case_From__c`` (Text 255) on Case, and ``conversationId__c`` (Text 255,
        unique, external id) on Case and Opportunity. The admin (``admin_username`` /
        ``admin_password``) is the app's client-credentials user.
        """
        org = cls(name, org_id=org_id, clock=clock, admin_username=admin_username)
        org.add_custom_field(
            "Case",
            FieldDef(
                name="Case_From__c",
                label="Case From",
                type="string",
                length=255,
                custom=True,
                search_group="text",
            ),
        )
        for object_name in ("Case", "Opportunity"):
            org.add_custom_field(
                object_name,
                FieldDef(
                    name="conversationId__c",
                    label="conversationId",
                    type="string",
                    length=255,
                    unique=True,
                    external_id=True,
                    id_lookup=True,
                    custom=True,
                ),
            )
        org.set_password(org.admin_user_id, admin_password)
        org.create_connected_app(
            "sfbridge",
            client_id=client_id,
            client_secret=client_secret,
            callback_urls=callback_urls,
            client_credentials_user_id=org.admin_user_id,
        )
        return org

    def to_dict(self) -> dict[str, Any]:
        """The whole org as JSON-serialisable data (see :mod:`sfemu.persistence`)."""
        with self._lock:
            return persistence.org_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, clock: Clock | None = None) -> Org:
        """Rebuild an org from :meth:`to_dict` output."""
        return persistence.org_from_dict(cls, data, clock)

    def create_user(
        self,
        username: str,
        *,
        email: str,
        first_name: str | None = None,
        last_name: str,
        permissions: Iterable[str] = USER_PERMISSIONS,
        time_zone: str = "America/Los_Angeles",
        is_active: bool = True,
        profile: str = "Standard User",
    ) -> str:
        """Create a User record (validated like an API insert); returns its id.

        Raises:
            ApiError: DUPLICATE_VALUE for a taken username, other DML errors, or 400
                INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST for an unknown time zone.
        """
        try:
            ZoneInfo(time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ApiError(
                400,
                "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                f"Time Zone: bad value for restricted picklist field: {time_zone}",
                ["TimeZoneSidKey"],
            ) from None
        profiles = self.find_by_field("Profile", "Name", profile)
        if not profiles:
            raise ApiError(400, "INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
        with self.transaction():
            obj = self.objects["User"]
            data = dml.convert(
                dml.resolve_names(
                    obj,
                    _user_values(
                        username,
                        email=email,
                        first_name=first_name,
                        last_name=last_name,
                        time_zone=time_zone,
                        is_active=is_active,
                        profile_id=profiles[0]["Id"],
                    ),
                )
            )
            dml.check_required(obj, data, "insert")
            dml.check_values(obj, data)
            self._check_unique(obj, data, None)
            user_id = self._insert(obj, data, self.admin_user_id)
            self._permissions[user_id] = set(permissions)
            return user_id


def _user_values(
    username: str,
    *,
    email: str,
    first_name: str | None,
    last_name: str,
    time_zone: str,
    is_active: bool,
    profile_id: str,
) -> dict[str, Any]:
    alias = ((first_name or "")[:1] + last_name)[:8].lower() or "user"
    return {
        "Username": username,
        "Email": email,
        "FirstName": first_name,
        "LastName": last_name,
        "Alias": alias,
        "CommunityNickname": username.split("@")[0][:40],
        "IsActive": is_active,
        "TimeZoneSidKey": time_zone,
        "LocaleSidKey": "en_US",
        "EmailEncodingKey": "UTF-8",
        "LanguageLocaleKey": "en_US",
        "ProfileId": profile_id,
    }
