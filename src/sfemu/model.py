"""The emulator's data contract: schema types, records and the one error type.

Everything else in sfemu (the org state in ``org.py``, the SOQL/SOSL engines in ``soql.py``
and ``sosl.py``, the wire routes) speaks in these types. Nothing here does I/O.

Records are plain ``dict[str, Any]`` keyed by the field's canonical API name (the casing of
``FieldDef.name``). Stored values are Python values:

- ``id`` / ``reference``: the 18-character id as ``str`` (or ``None``)
- ``string``, ``textarea``, ``email``, ``phone``, ``url``, ``picklist``, ``combobox``: ``str``
- ``boolean``: ``bool``; ``int``: ``int``; ``double``/``currency``/``percent``: ``float``
- ``date``: ``datetime.date``; ``datetime``: ``datetime.datetime`` (aware, UTC)

Serialisation to Salesforce's wire formats (``"2024-03-01T10:15:00.000+0000"``) happens at the
wire edge, with :func:`wire_value`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

FieldType = Literal[
    "id",
    "string",
    "textarea",
    "picklist",
    "multipicklist",
    "combobox",
    "reference",
    "boolean",
    "date",
    "datetime",
    "int",
    "double",
    "currency",
    "percent",
    "email",
    "phone",
    "url",
]

Record = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PicklistValue:
    value: str
    label: str
    default: bool = False
    active: bool = True
    #: Case Status / Task Status: the value closes the record (drives IsClosed).
    closed: bool = False
    #: Opportunity StageName: the stage is won (drives IsWon).
    won: bool = False
    #: Opportunity StageName: default probability.
    probability: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FieldDef:
    name: str
    label: str
    type: FieldType
    length: int = 0
    nillable: bool = True
    createable: bool = True
    updateable: bool = True
    defaulted_on_create: bool = False
    unique: bool = False
    external_id: bool = False
    id_lookup: bool = False
    case_sensitive: bool = False
    custom: bool = False
    name_field: bool = False
    auto_number: bool = False
    calculated: bool = False
    #: System-set audit field (CreatedDate, CreatedById, ...); settable on insert only by a
    #: user with the "set audit fields" permission.
    audit: bool = False
    picklist: tuple[PicklistValue, ...] = ()
    restricted_picklist: bool = False
    #: Reference fields: target object names (several for polymorphic fields).
    reference_to: tuple[str, ...] = ()
    #: Reference fields: the relationship name used in SOQL paths (``Account`` for AccountId).
    relationship_name: str | None = None
    polymorphic: bool = False
    #: Searchable in SOSL: "name", "email", "phone" or "text" (IN ALL FIELDS), or None.
    search_group: Literal["name", "email", "phone", "text"] | None = None

    @property
    def required_on_create(self) -> bool:
        return not self.nillable and self.createable and not self.defaulted_on_create


@dataclass(frozen=True, slots=True, kw_only=True)
class ChildRelationship:
    #: Relationship name used in SOQL child subqueries, e.g. ``CaseComments`` on Case.
    name: str
    child_object: str
    #: The child's reference field pointing at the parent, e.g. ``ParentId``.
    field: str


@dataclass(slots=True, kw_only=True)
class ObjectDef:
    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: dict[str, FieldDef]
    child_relationships: tuple[ChildRelationship, ...] = ()
    custom: bool = False
    createable: bool = True
    updateable: bool = True
    deletable: bool = True
    queryable: bool = True
    searchable: bool = True
    #: Lower-cased field name -> canonical name, filled by __post_init__.
    _lower: dict[str, str] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self.reindex()

    def reindex(self) -> None:
        self._lower = {name.lower(): name for name in self.fields}

    def field(self, name: str) -> FieldDef | None:
        """Case-insensitive field lookup, as Salesforce does."""
        canonical = self._lower.get(name.lower())
        return self.fields[canonical] if canonical else None

    def relationship(self, name: str) -> FieldDef | None:
        """The reference field whose relationship name is ``name`` (case-insensitive)."""
        lowered = name.lower()
        for f in self.fields.values():
            if f.relationship_name and f.relationship_name.lower() == lowered:
                return f
        return None

    def child(self, name: str) -> ChildRelationship | None:
        lowered = name.lower()
        for c in self.child_relationships:
            if c.name.lower() == lowered:
                return c
        return None


class ApiError(Exception):
    """A Salesforce API error, carrying what goes on the wire.

    ``status`` is the HTTP status; the body is ``[{"message", "errorCode", "fields"?}]``.
    ``fields`` is ``None`` for errors that carry no ``fields`` key (query, auth, routing).
    """

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        fields: list[str] | None = None,
    ) -> None:
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields

    def body(self) -> list[dict[str, Any]]:
        item: dict[str, Any] = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            item["fields"] = self.fields
        return [item]

    def collection_error(self) -> dict[str, Any]:
        """The shape used inside sObject Collections and Tree results (``statusCode``)."""
        return {
            "statusCode": self.error_code,
            "message": self.message,
            "fields": self.fields or [],
        }


def format_datetime(value: dt.datetime) -> str:
    """Salesforce's dateTime wire format: ``2013-05-07T22:07:19.000+0000`` (always UTC)."""
    value = value.astimezone(dt.UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def wire_value(value: Any) -> Any:
    """A stored value as it appears in JSON responses."""
    if isinstance(value, dt.datetime):
        return format_datetime(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


class DataSource(Protocol):
    """What the query engines (SOQL, SOSL) need from an org. ``org.Org`` implements it.

    All name arguments are case-insensitive. Ids may be 15 or 18 characters.
    """

    def object(self, name: str) -> ObjectDef | None:
        """The object's definition, or None when the org has no such object."""

    def object_for_id(self, record_id: str) -> ObjectDef | None:
        """The object an id belongs to, from its key prefix (for polymorphic fields)."""

    def rows(self, object_name: str, *, include_deleted: bool = False) -> Iterable[Record]:
        """Every record of an object, in insertion order (deleted ones only when asked)."""

    def get(self, record_id: str, *, include_deleted: bool = False) -> Record | None:
        """One record by id, whatever its object."""

    def lookup(self, object_name: str, field: str, value: Any) -> list[Record] | None:
        """Records whose ``field`` equals ``value``, from an index.

        Returns None when the field is not indexed (then the caller scans ``rows``).
        Id, reference, external-id and unique fields are indexed. Text comparison is
        case-insensitive, as in SOQL.
        """

    def field_visible(self, object_name: str, field: str, user_id: str) -> bool:
        """Field-level security: False when the field is hidden from this user."""

    def searchable(self, record: Record) -> bool:
        """False while a record is still inside the org's search-index lag window."""

    def now(self) -> dt.datetime:
        """The org's clock (aware, UTC). Date literals (TODAY, LAST_N_DAYS) use it."""

    def user_timezone(self, user_id: str) -> dt.tzinfo:
        """The user's time zone, for date literals (ranges start at local midnight)."""
