import datetime as dt

import pytest

from sfemu import ids
from sfemu.model import ApiError, DataSource
from sfemu.org import DEFAULT_ADMIN_PASSWORD, DEFAULT_ADMIN_USERNAME, Org


@pytest.fixture(name="org")
def _org() -> Org:
    return Org.default()


def test_org_satisfies_the_datasource_protocol(org: Org) -> None:
    source: DataSource = org
    assert source.object("case") is org.objects["Case"]
    assert source.now().tzinfo is not None


def test_default_org_has_admin_app_and_custom_fields(org: Org) -> None:
    admin = org.user_by_username(DEFAULT_ADMIN_USERNAME.upper())
    assert admin is not None and admin["Id"] == org.admin_user_id
    assert org.check_password(DEFAULT_ADMIN_USERNAME, DEFAULT_ADMIN_PASSWORD) == admin["Id"]
    assert org.check_password(DEFAULT_ADMIN_USERNAME, "wrong") is None
    assert len(org.apps) == 1
    app = next(iter(org.apps.values()))
    assert app.client_credentials_user_id == org.admin_user_id
    assert org.objects["Case"].field("conversationid__c") is not None
    assert org.objects["Opportunity"].field("conversationId__c") is not None
    assert org.objects["Case"].field("Case_From__c") is not None
    assert org.objects["Account"].field("conversationId__c") is None
    assert ids.is_valid(org.org_id, "00D")
    organization = org.get(org.org_id)
    assert organization is not None and organization["IsSandbox"] is False


def test_create_then_retrieve_and_get(org: Org) -> None:
    case_id = org.create(
        "case", {"Subject": "Printer down", "Origin": "Phone"}, user_id=org.admin_user_id
    )
    assert ids.is_valid(case_id, "500") and len(case_id) == 18
    record = org.retrieve("Case", case_id[:15], user_id=org.admin_user_id)
    assert record["Subject"] == "Printer down"
    assert record["Status"] == "New"
    assert record["Priority"] == "Medium"
    assert record["IsClosed"] is False
    assert record["CaseNumber"] == "00001001"
    assert record["OwnerId"] == org.admin_user_id
    assert isinstance(record["CreatedDate"], dt.datetime)
    assert org.get(case_id) is not None
    assert org.get(case_id[:15]) is org.get(case_id)
    assert org.object_for_id(case_id) is org.objects["Case"]
    picked = org.retrieve("Case", case_id, user_id=org.admin_user_id, fields=["subject"])
    assert picked == {"Subject": "Printer down", "Id": case_id}


def test_unknown_object_is_404(org: Org) -> None:
    with pytest.raises(ApiError) as caught:
        org.create("PlayingCard__c", {"Name": "x"}, user_id=org.admin_user_id)
    assert caught.value.status == 404
    assert caught.value.body() == [
        {"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}
    ]
