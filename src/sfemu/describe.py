"""Describe responses (reference section 2.3): global, per-object, and basic info.

The JSON shapes mirror Salesforce's; values come from the org's ``ObjectDef``/``FieldDef``.
Fields hidden from ``user_id`` by field-level security are left out, as Salesforce does.
"""

from __future__ import annotations

from typing import Any

from sfemu.model import ApiError, FieldDef, ObjectDef
from sfemu.org import Org

_SOAP_TYPES = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
    "int": "xsd:int",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
}
_TEXT_TYPES = frozenset(
    {"string", "textarea", "picklist", "multipicklist", "combobox", "email", "phone", "url"}
)
_NUMBER_TYPES = frozenset({"double", "currency", "percent"})
#: Text longer than this is "long text area": not filterable, sortable or groupable.
_LONG_TEXT = 255


def _object(org: Org, object_name: str) -> ObjectDef:
    obj = org.object(object_name)
    if obj is None:
        raise ApiError(404, "NOT_FOUND", "The requested resource does not exist")
    return obj


def _urls(obj: ObjectDef, version: str, *, full: bool) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{obj.name}"
    urls = {"sobject": base, "describe": f"{base}/describe", "rowTemplate": f"{base}/{{ID}}"}
    if full:
        urls |= {
            "compactLayouts": f"{base}/describe/compactLayouts",
            "defaultValues": f"{base}/defaultValues?recordTypeId&fields",
            "layouts": f"{base}/describe/layouts",
            "listviews": f"{base}/listviews",
            "quickActions": f"{base}/quickActions",
        }
    return urls


def object_summary(obj: ObjectDef, version: str) -> dict[str, Any]:
    """The per-object entry of describeGlobal (also the head of a full describe)."""
    return {
        "activateable": False,
        "associateEntityType": None,
        "associateParentEntity": None,
        "createable": obj.createable,
        "custom": obj.custom,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": obj.deletable,
        "deprecatedAndHidden": False,
        "feedEnabled": obj.createable,
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": obj.key_prefix,
        "label": obj.label,
        "labelPlural": obj.label_plural,
        "layoutable": obj.createable,
        "mergeable": obj.name in ("Account", "Contact", "Lead", "Case"),
        "mruEnabled": obj.createable,
        "name": obj.name,
        "queryable": obj.queryable,
        "replicateable": True,
        "retrieveable": True,
        "searchable": obj.searchable,
        "triggerable": obj.createable,
        "undeletable": obj.deletable,
        "updateable": obj.updateable,
        "urls": _urls(obj, version, full=False),
    }


def describe_global(org: Org, version: str = "59.0") -> dict[str, Any]:
    """``GET /services/data/vNN.0/sobjects``."""
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [
            object_summary(o, version) for o in sorted(org.objects.values(), key=lambda o: o.name)
        ],
    }


def basic_info(org: Org, object_name: str, version: str = "59.0") -> dict[str, Any]:
    """``GET .../sobjects/{Object}/``: the summary plus recent items (always empty here)."""
    obj = _object(org, object_name)
    return {"objectDescribe": object_summary(obj, version), "recentItems": []}


def _long_text(field: FieldDef) -> bool:
    return field.type == "textarea" and field.length > _LONG_TEXT


def _byte_length(field: FieldDef) -> int:
    if field.type in ("id", "reference"):
        return 18
    if field.type in _TEXT_TYPES:
        return field.length * 3
    return 0


def _precision_scale(field: FieldDef) -> tuple[int, int, int]:
    """``(digits, precision, scale)`` as describe shows them."""
    if field.type == "int":
        return field.length or 9, 0, 0
    if field.type == "currency":
        return 0, 18, 2
    if field.type == "percent":
        return 0, 3, 0
    if field.type == "double":
        return 0, 18, 0
    return 0, 0, 0


def _default_value(field: FieldDef) -> Any:
    if field.type == "boolean":
        return field.name == "IsActive"
    return None


def describe_field(field: FieldDef) -> dict[str, Any]:
    """One entry of ``fields`` in an object describe."""
    digits, precision, scale = _precision_scale(field)
    long_text = _long_text(field)
    filterable = not long_text and field.type != "multipicklist"
    return {
        "aggregatable": filterable and field.type not in ("boolean",),
        "aiPredictionField": False,
        "autoNumber": field.auto_number,
        "byteLength": _byte_length(field),
        "calculated": field.calculated,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": field.case_sensitive,
        "compoundFieldName": None,
        "controllerName": None,
        "createable": field.createable,
        "custom": field.custom,
        "defaultValue": _default_value(field),
        "defaultValueFormula": None,
        "defaultedOnCreate": field.defaulted_on_create,
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": digits,
        "displayLocationInDecimal": False,
        "encrypted": False,
        "externalId": field.external_id,
        "extraTypeInfo": None,
        "filterable": filterable,
        "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False,
        "groupable": filterable and field.type not in _NUMBER_TYPES | {"datetime"},
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": field.id_lookup,
        "inlineHelpText": None,
        "label": field.label,
        "length": field.length
        if field.type in _TEXT_TYPES or field.type in ("id", "reference")
        else 0,
        "mask": None,
        "maskType": None,
        "name": field.name,
        "nameField": field.name_field,
        "namePointing": field.polymorphic and field.relationship_name == "Owner",
        "nillable": field.nillable,
        "permissionable": field.nillable and not field.calculated and field.createable,
        "picklistValues": [
            {
                "active": p.active,
                "defaultValue": p.default,
                "label": p.label,
                "validFor": None,
                "value": p.value,
            }
            for p in field.picklist
        ],
        "polymorphicForeignKey": field.polymorphic,
        "precision": precision,
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": list(field.reference_to),
        "relationshipName": field.relationship_name,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": field.restricted_picklist,
        "scale": scale,
        "searchPrefilterable": False,
        "soapType": _SOAP_TYPES.get(field.type, "xsd:string"),
        "sortable": filterable,
        "type": field.type,
        "unique": field.unique,
        "updateable": field.updateable,
        "writeRequiresMasterRead": False,
    }


def describe_object(
    org: Org, object_name: str, version: str = "59.0", *, user_id: str | None = None
) -> dict[str, Any]:
    """``GET .../sobjects/{Object}/describe``.

    Args:
        org: the org.
        object_name: case-insensitive.
        version: API version for the URLs.
        user_id: when given, fields hidden from this user are left out.

    Raises:
        ApiError: 404 NOT_FOUND for an unknown object.
    """
    obj = _object(org, object_name)
    fields = [
        f
        for f in obj.fields.values()
        if user_id is None or org.field_visible(obj.name, f.name, user_id)
    ]
    body = object_summary(obj, version)
    body.update(
        {
            "actionOverrides": [],
            "childRelationships": [
                {
                    "cascadeDelete": c.child_object in ("CaseComment", "EmailMessage"),
                    "childSObject": c.child_object,
                    "deprecatedAndHidden": False,
                    "field": c.field,
                    "junctionIdListNames": [],
                    "junctionReferenceTo": [],
                    "relationshipName": c.name,
                    "restrictedDelete": False,
                }
                for c in obj.child_relationships
            ],
            "compactLayoutable": obj.createable,
            "fields": [describe_field(f) for f in fields],
            "listviewable": None,
            "lookupLayoutable": None,
            "namedLayoutInfos": [],
            "networkScopeFieldName": None,
            "recordTypeInfos": [
                {
                    "active": True,
                    "available": True,
                    "defaultRecordTypeMapping": True,
                    "developerName": "Master",
                    "master": True,
                    "name": "Master",
                    "recordTypeId": "012000000000000AAA",
                    "urls": {
                        "layout": f"/services/data/v{version}/sobjects/{obj.name}/describe/layouts/012000000000000AAA"
                    },
                }
            ]
            if obj.createable
            else [],
            "searchLayoutable": obj.searchable,
            "supportedScopes": [{"label": "All " + obj.label_plural.lower(), "name": "everything"}],
            "urls": _urls(obj, version, full=True),
        }
    )
    return dict(sorted(body.items()))
