"""Schema changes, users, permissions, field-level security, passwords and connected apps."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from sfemu.model import ApiError, FieldDef
from sfemu.org import Org


@pytest.fixture(name="org")
def _org() -> Org:
    return Org.default()


def test_custom_fields_are_per_org(org: Org) -> None:
    other = Org("Other")
    assert other.objects["Case"].field("conversationId__c") is None
    org.add_custom_field(
        "Account", FieldDef(name="Tier__c", label="Tier", type="string", length=10)
    )
    assert other.objects["Account"].field("Tier__c") is None
    assert org.objects["Account"].field("tier__c") is not None
    assert org.objects["Account"].fields["Tier__c"].custom is True


def test_adding_a_field_backfills_records_and_indexes(org: Org) -> None:
    admin = org.admin_user_id
    account = org.create("Account", {"Name": "Acme"}, user_id=admin)
    org.add_custom_field(
        "Account",
        FieldDef(
            name="Ext__c", label="Ext", type="string", length=20, unique=True, external_id=True
        ),
    )
    org.add_custom_field("Account", FieldDef(name="Vip__c", label="VIP", type="boolean"))
    record = org.retrieve("Account", account, user_id=admin)
    assert (record["Ext__c"], record["Vip__c"]) == (None, False)
    org.update("Account", account, {"Ext__c": "E-1"}, user_id=admin)
    assert [r["Id"] for r in org.lookup("Account", "Ext__c", "e-1") or []] == [account]


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Tier", "INVALID_FIELD"),
        ("__c", "INVALID_FIELD"),
        ("conversationId__c", "DUPLICATE_DEVELOPER_NAME"),
    ],
)
def test_bad_custom_field_names(org: Org, name: str, code: str) -> None:
    with pytest.raises(ApiError) as caught:
        org.add_custom_field("Case", FieldDef(name=name, label="x", type="string", length=5))
    assert caught.value.error_code == code


def test_remove_field(org: Org) -> None:
    admin = org.admin_user_id
    case = org.create("Case", {"conversationId__c": "c1"}, user_id=admin)
    org.remove_field("Case", "conversationid__c")
    assert org.objects["Case"].field("conversationId__c") is None
    assert "conversationId__c" not in org.retrieve("Case", case, user_id=admin)
    assert org.lookup("Case", "conversationId__c", "c1") is None
    with pytest.raises(ApiError) as caught:
        org.create("Case", {"conversationId__c": "c2"}, user_id=admin)
    assert caught.value.error_code == "INVALID_FIELD"
    with pytest.raises(ApiError):
        org.remove_field("Case", "Subject")  # standard fields stay
    with pytest.raises(ApiError):
        org.remove_field("Case", "Nope__c")


def test_create_user_and_permissions(org: Org) -> None:
    rep = org.create_user(
        "Rep@Example.com",
        email="rep@example.com",
        first_name="Rita",
        last_name="Rep",
        time_zone="Europe/Berlin",
    )
    user = org.user_by_username("rep@example.com")
    assert user is not None and user["Id"] == rep
    assert (user["Name"], user["IsActive"], user["UserType"]) == ("Rita Rep", True, "Standard")
    assert org.has_permission(rep, "ApiEnabled")
    assert not org.has_permission(rep, "ViewAllData")
    org.grant(rep[:15], "ViewAllData")
    assert org.has_permission(rep, "ViewAllData")
    org.revoke(rep, "ViewAllData")
    assert org.permissions(rep) == frozenset({"ApiEnabled"})
    assert org.user_timezone(rep) == ZoneInfo("Europe/Berlin")
    assert org.user_timezone("0055g0000000999AAA") == dt.UTC
    with pytest.raises(ApiError) as caught:
        org.create_user("rep@example.com", email="x@example.com", last_name="Dup")
    assert caught.value.error_code == "DUPLICATE_VALUE"
    with pytest.raises(ApiError) as caught:
        org.create_user(
            "z@example.com", email="z@example.com", last_name="Z", time_zone="Mars/Base"
        )
    assert caught.value.error_code == "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST"


def test_passwords(org: Org) -> None:
    rep = org.create_user("rep@example.com", email="rep@example.com", last_name="Rep")
    assert org.check_password("rep@example.com", "") is None  # no password set yet
    org.set_password(rep, "s3cret!")
    assert org.check_password("REP@example.com", "s3cret!") == rep
    assert org.check_password("rep@example.com", "S3cret!") is None
    assert org.check_password("nobody@example.com", "s3cret!") is None
    assert "s3cret!" not in str(org.to_dict())
    org.update("User", rep, {"IsActive": False}, user_id=org.admin_user_id)
    assert org.check_password("rep@example.com", "s3cret!") is None


def test_field_level_security(org: Org) -> None:
    admin = org.admin_user_id
    rep = org.create_user("rep@example.com", email="rep@example.com", last_name="Rep")
    case = org.create("Case", {"Subject": "s", "Description": "secret"}, user_id=admin)
    org.hide_field("case", "description", rep)
    assert not org.field_visible("Case", "Description", rep)
    assert org.field_visible("Case", "Description", admin)
    assert not org.field_visible("Case", "Nope", admin)
    assert "Description" not in org.retrieve("Case", case, user_id=rep)
    assert org.retrieve("Case", case, user_id=admin)["Description"] == "secret"
    with pytest.raises(ApiError) as caught:
        org.retrieve("Case", case, user_id=rep, fields=["Description"])
    assert caught.value.error_code == "INVALID_FIELD"
    with pytest.raises(ApiError) as caught:
        org.update("Case", case, {"Description": "x"}, user_id=rep)
    assert caught.value.error_code == "INVALID_FIELD_FOR_INSERT_UPDATE"
    org.show_field("Case", "Description", rep)
    assert org.retrieve("Case", case, user_id=rep)["Description"] == "secret"


def test_unknown_running_user_is_refused(org: Org) -> None:
    with pytest.raises(ApiError) as caught:
        org.create("Case", {}, user_id="0055g0000000999AAA")
    assert (caught.value.status, caught.value.error_code) == (401, "INVALID_SESSION_ID")


def test_connected_apps(org: Org) -> None:
    default = next(iter(org.apps.values()))
    assert default.client_id.startswith("3MVG9") and len(default.client_id) == 85
    assert len(default.client_secret) == 64
    app = org.create_connected_app(
        "jwt app",
        client_id="my-client",
        client_secret="my-secret",
        callback_urls=["https://app.example.com/cb"],
        scopes=["api"],
        refresh_token_rotation=True,
        jwt_public_key_pem="-----BEGIN PUBLIC KEY-----\n...",
    )
    assert org.apps["my-client"] is app
    assert app.callback_urls == ("https://app.example.com/cb",)
    assert app.client_credentials_user_id is None
    with pytest.raises(ApiError):
        org.create_connected_app("bad", client_credentials_user_id="0055g0000000999AAA")


def test_orgs_get_distinct_ids_and_admins() -> None:
    first, second = Org("A"), Org("B", is_sandbox=True)
    assert first.org_id != second.org_id
    first_admin, second_admin = first.get(first.admin_user_id), second.get(second.admin_user_id)
    assert first_admin is not None and second_admin is not None
    assert first_admin["Username"] != second_admin["Username"]
    organization = second.get(second.org_id)
    assert organization is not None and organization["IsSandbox"] is True
    assert Org("C", org_id="00D5g000000abcd").org_id == "00D5g000000abcdEAA"


def test_search_lag(org: Org) -> None:
    now = [dt.datetime(2024, 1, 1, tzinfo=dt.UTC)]
    org.clock = lambda: now[0]
    org.search_lag_seconds = 30
    case = org.create("Case", {}, user_id=org.admin_user_id)
    record = org.get(case)
    assert record is not None and not org.searchable(record)
    now[0] += dt.timedelta(seconds=30)
    assert org.searchable(record)
