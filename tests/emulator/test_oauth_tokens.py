"""TokenStore: validation, expiry, bulk revocation and persistence."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest

from sfemu.model import ApiError
from sfemu.org import Org
from sfemu.tokens import TokenStore
from tests.emulator.oauth_harness import (
    CLIENT_ID,
    ORG_ID,
    OTHER_ORG_ID,
    Directory,
    MovableClock,
    make_org,
)

OTHER_ORG = OTHER_ORG_ID
#: The store does not look users up: any user id will do.
USER_ID = "0055g00000AbCdEAAV"


class _Clocked:
    """An org and the clock that drives it."""

    def __init__(self, org_id: str) -> None:
        self.clock = MovableClock()
        self.org: Org = make_org(org_id=org_id, clock=self.clock, prefix=org_id)[0]

    def advance(self, seconds: float) -> None:
        self.clock.offset += dt.timedelta(seconds=seconds)


def _store() -> tuple[TokenStore, _Clocked, _Clocked]:
    org, other = _Clocked(ORG_ID), _Clocked(OTHER_ORG)
    return TokenStore(Directory([org.org, other.org])), org, other


def _invalid(store: TokenStore, token: str) -> None:
    with pytest.raises(ApiError) as caught:
        store.validate(token)
    assert caught.value.status == 401
    assert caught.value.body() == [
        {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    ]


def test_access_token_shape_and_session() -> None:
    store, _, _ = _store()
    issued = store.issue(org_id=ORG_ID, user_id=USER_ID, client_id=CLIENT_ID, scopes=["api", "web"])
    assert re.fullmatch(r"00D5g000004XyZa![A-Za-z0-9._]{90,}", issued.access_token)
    assert issued.refresh_token is None
    session = store.validate(issued.access_token)
    assert session == issued.session
    assert session.scopes == frozenset({"api", "web"})


@pytest.mark.parametrize("token", ["", "00D5g000004XyZa!nope", "Bearer x", "5Aep861x"])
def test_unknown_tokens_are_invalid(token: str) -> None:
    store, _, _ = _store()
    _invalid(store, token)


@pytest.mark.parametrize(
    ("timeout", "elapsed", "valid"),
    [(7200, 0, True), (7200, 7199, True), (7200, 7200, False), (900, 901, False), (900, 60, True)],
)
def test_expiry_uses_the_org_timeout_and_clock(timeout: int, elapsed: int, valid: bool) -> None:
    store, org, _ = _store()
    org.org.session_timeout_seconds = timeout
    token = store.issue(org_id=ORG_ID, user_id=USER_ID, client_id=CLIENT_ID).access_token
    org.advance(elapsed)
    if valid:
        assert store.validate(token).user_id == USER_ID
    else:
        _invalid(store, token)


def test_token_of_a_deleted_org_is_invalid() -> None:
    store, _, _ = _store()
    token = store.issue(org_id=ORG_ID, user_id=USER_ID, client_id=CLIENT_ID).access_token
    store.bind(Directory([]))
    _invalid(store, token)


def test_expire_all_is_per_org() -> None:
    store, _, _ = _store()
    mine = [
        store.issue(org_id=ORG_ID, user_id=USER_ID, client_id=CLIENT_ID, with_refresh_token=True)
        for _ in range(3)
    ]
    theirs = store.issue(org_id=OTHER_ORG, user_id=USER_ID, client_id=CLIENT_ID)
    assert store.expire_all(ORG_ID) == 3
    for issued in mine:
        _invalid(store, issued.access_token)
    assert store.validate(theirs.access_token).org_id == OTHER_ORG
    # Refresh tokens survive: a client recovers by refreshing.
    assert mine[0].refresh_token is not None
    again = store.refresh(mine[0].refresh_token, client_id=CLIENT_ID)
    assert again is not None and store.validate(again.access_token).user_id == USER_ID
    assert store.expire_all(ORG_ID) == 1


def test_revoke_refresh_tokens_keeps_live_sessions() -> None:
    store, _, _ = _store()
    issued = store.issue(
        org_id=ORG_ID, user_id=USER_ID, client_id=CLIENT_ID, with_refresh_token=True
    )
    other = store.issue(
        org_id=OTHER_ORG, user_id=USER_ID, client_id=CLIENT_ID, with_refresh_token=True
    )
    assert issued.refresh_token is not None and other.refresh_token is not None
    assert store.revoke_refresh_tokens(ORG_ID) == 1
    assert store.refresh(issued.refresh_token, client_id=CLIENT_ID) is None
    assert store.validate(issued.access_token).org_id == ORG_ID
    assert store.refresh(other.refresh_token, client_id=CLIENT_ID) is not None
    # The access token no longer belongs to a family; revoking it alone still works.
    assert store.revoke(issued.access_token)
    _invalid(store, issued.access_token)


def test_refresh_is_bound_to_its_client() -> None:
    store, _, _ = _store()
    issued = store.issue(
        org_id=ORG_ID, user_id=USER_ID, client_id=CLIENT_ID, with_refresh_token=True
    )
    assert issued.refresh_token is not None
    assert store.refresh(issued.refresh_token, client_id="3MVGother") is None
    assert store.refresh(issued.refresh_token, client_id=CLIENT_ID) is not None


def test_codes_expire_after_fifteen_minutes_of_org_time() -> None:
    store, org, _ = _store()
    kwargs = {"org_id": ORG_ID, "user_id": USER_ID, "client_id": CLIENT_ID}
    code = store.codes.create(**kwargs, redirect_uri="http://cb", scopes=["api"])
    org.advance(14 * 60)
    assert store.codes.get(code) is not None
    org.advance(61)
    assert store.codes.get(code) is None


def test_a_consumed_code_never_works_again() -> None:
    store, _, _ = _store()
    code = store.codes.create(
        org_id=ORG_ID, user_id=USER_ID, client_id=CLIENT_ID, redirect_uri="http://cb", scopes=[]
    )
    found = store.codes.get(code)
    assert found is not None and found.user_id == USER_ID and found.scopes == frozenset()
    assert re.fullmatch(r"aPrx[A-Za-z0-9._]{60,}==", code)
    store.codes.consume(code)
    assert store.codes.get(code) is None


@pytest.mark.parametrize(
    ("client_id", "user_id", "approved"),
    [(CLIENT_ID, USER_ID, True), ("3MVGother", USER_ID, False), (CLIENT_ID, "005other", False)],
)
def test_approvals_are_per_app_and_user(client_id: str, user_id: str, approved: bool) -> None:
    store, _, _ = _store()
    store.codes.approve(CLIENT_ID, USER_ID)
    assert store.codes.approved(client_id, user_id) is approved


def test_persistence_round_trip() -> None:
    store, org, _ = _store()
    family = store.issue(
        org_id=ORG_ID,
        user_id=USER_ID,
        client_id=CLIENT_ID,
        scopes=["api", "refresh_token"],
        with_refresh_token=True,
    )
    assert family.refresh_token is not None
    child = store.refresh(family.refresh_token, client_id=CLIENT_ID)
    assert child is not None
    lone = store.issue(org_id=OTHER_ORG, user_id=USER_ID, client_id=CLIENT_ID)
    code = store.codes.create(
        org_id=ORG_ID,
        user_id=USER_ID,
        client_id=CLIENT_ID,
        redirect_uri="http://cb",
        scopes=["api"],
        code_challenge="abc",
        nonce="n-1",
    )
    store.codes.approve(CLIENT_ID, USER_ID)

    saved = json.loads(json.dumps(store.to_dict()))
    loaded = TokenStore.from_dict(saved, Directory([org.org, _Clocked(OTHER_ORG).org]))

    assert loaded.to_dict() == saved
    assert loaded.validate(family.access_token) == store.validate(family.access_token)
    assert loaded.validate(lone.access_token).org_id == OTHER_ORG
    assert loaded.codes.approved(CLIENT_ID, USER_ID)
    restored = loaded.codes.get(code)
    assert restored is not None and restored.code_challenge == "abc" and restored.nonce == "n-1"
    # The refresh family survived: revoking it takes both access tokens.
    assert loaded.revoke(family.refresh_token)
    _invalid(loaded, family.access_token)
    _invalid(loaded, child.access_token)


def test_from_empty_dict() -> None:
    store = TokenStore.from_dict({})
    assert store.to_dict() == {"access": {}, "refresh": {}, "codes": {}, "approvals": []}
