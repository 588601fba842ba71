"""Server-to-server setups (JWT bearer, client credentials) through our API against sfemu,
the setup rules (clear 4xx, nothing saved), and switching flows."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from sfbridge.salesforce.oauth import JWT_BEARER_GRANT
from sfbridge.store import connections
from tests.integration.test_connection_harness import (  # noqa: F401  (fixtures)
    BOX,
    Bridge,
    bridge_fixture,
    rsa_pair,
    sf_fixture,
)

PAIR = rsa_pair()


def encrypted_pem() -> str:
    key = serialization.load_pem_private_key(PAIR.private_pem.encode(), password=None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    ).decode()


def ec_pem() -> str:
    return (
        ec.generate_private_key(ec.SECP256R1())
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )


async def put(bridge: Bridge, body: dict[str, Any]) -> Any:
    return await bridge.api.put(bridge.base, json=body)


async def raw_row(bridge: Bridge) -> str:
    async with bridge.deps.db.transaction() as tx:
        row = await tx.fetch_one("connection_get", {"workspace_id": bridge.workspace_id})
    return str(row)


async def test_jwt_bearer_connects_at_once_and_renews_by_signing_again(bridge: Bridge) -> None:
    app = bridge.new_app(jwt_public_key_pem=PAIR.public_pem)
    resp = await put(
        bridge,
        {
            "flow": "jwt_bearer",
            "client_id": app["client_id"],
            "username": bridge.sf.credentials.username,
            "private_key_pem": PAIR.private_pem,
            "login_url": bridge.sf.url,
        },
    )
    assert resp.status_code == 200, resp.text
    saved = resp.json()
    assert saved["flow"] == "jwt_bearer" and saved["status"] == "credentials_saved"
    assert saved["jwt_username"] == bridge.sf.credentials.username
    assert saved["has_private_key"] and not saved["has_client_secret"]
    assert "PRIVATE KEY" not in resp.text
    row = await raw_row(bridge)
    assert "PRIVATE KEY" not in row and PAIR.private_pem.splitlines()[1] not in row

    resp = await bridge.api.post(f"{bridge.base}/connect")
    assert resp.status_code == 200, resp.text
    outcome = resp.json()
    assert outcome["flow"] == "jwt_bearer" and outcome["authorize_url"] is None
    conn = outcome["connection"]
    assert conn["status"] == "connected"
    assert conn["username"] == bridge.sf.credentials.username
    assert conn["org_id"] == bridge.sf.org_id
    assert conn["webhook_url"] and "PRIVATE KEY" not in resp.text
    assert bridge.calls.grants == [JWT_BEARER_GRANT]

    client = await bridge.client()
    assert await client.query_all("SELECT Id FROM User")
    bridge.sf.control("POST", "/expire-tokens")
    assert await client.query_all("SELECT Id FROM User")
    assert bridge.calls.grants == [JWT_BEARER_GRANT, JWT_BEARER_GRANT]
    assert (await bridge.connection())["status"] == "connected"

    # saving again without the key keeps it (write-only, never needed twice)
    again = await put(
        bridge,
        {
            "flow": "jwt_bearer",
            "client_id": app["client_id"],
            "username": bridge.sf.credentials.username,
            "login_url": bridge.sf.url,
        },
    )
    assert again.status_code == 200 and again.json()["has_private_key"]
    assert again.json()["status"] == "connected"  # same grant: tokens kept


async def test_jwt_bearer_with_a_key_the_app_does_not_know_is_refused(bridge: Bridge) -> None:
    app = bridge.new_app(jwt_public_key_pem=rsa_pair().public_pem)
    resp = await put(
        bridge,
        {
            "flow": "jwt_bearer",
            "client_id": app["client_id"],
            "username": bridge.sf.credentials.username,
            "private_key_pem": PAIR.private_pem,
            "login_url": bridge.sf.url,
        },
    )
    assert resp.status_code == 200
    refused = await bridge.api.post(f"{bridge.base}/connect")
    assert refused.status_code == 409
    assert refused.json()["error"] == "connection_problem"
    assert "JWT bearer" in refused.json()["message"]
    assert "certificate" in refused.json()["message"]
    conn = await bridge.connection()
    assert conn["status"] == "credentials_saved"
    assert conn["last_error"] and "invalid_grant" in conn["last_error"]


async def test_client_credentials_connect_at_once_and_renew(bridge: Bridge) -> None:
    app = bridge.new_app(client_credentials_user_id=bridge.sf.credentials.user_id)
    resp = await put(
        bridge,
        {
            "flow": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "login_url": bridge.sf.url,
        },
    )
    assert resp.status_code == 200, resp.text
    assert app["client_secret"] not in resp.text
    outcome = (await bridge.api.post(f"{bridge.base}/connect")).json()
    assert outcome["authorize_url"] is None
    assert outcome["connection"]["status"] == "connected"
    assert outcome["connection"]["username"] == bridge.sf.credentials.username
    client = await bridge.client()
    assert await client.query_all("SELECT Id FROM User")
    bridge.sf.control("POST", "/expire-tokens")
    assert await client.query_all("SELECT Id FROM User")
    assert bridge.calls.grants == ["client_credentials", "client_credentials"]
    # disconnect revokes the access token (there is no refresh token in this flow)
    async with bridge.deps.db.transaction() as tx:
        conn = await connections.get(tx, BOX, bridge.workspace_id)
    assert conn is not None and conn.refresh_token is None and conn.access_token is not None
    old = conn.access_token.reveal()
    out = await bridge.api.post(f"{bridge.base}/disconnect")
    assert out.status_code == 200 and out.json()["status"] == "disconnected"
    assert out.json()["last_error"] is None
    gone = await bridge.deps.access.http.get(
        f"{bridge.sf.api}/limits", headers={"Authorization": f"Bearer {old}"}
    )
    assert gone.status_code == 401


async def test_client_credentials_without_a_run_as_user_is_refused(bridge: Bridge) -> None:
    app = bridge.new_app()
    await put(
        bridge,
        {
            "flow": "client_credentials",
            "client_id": app["client_id"],
            "client_secret": app["client_secret"],
            "login_url": bridge.sf.url,
        },
    )
    refused = await bridge.api.post(f"{bridge.base}/connect")
    assert refused.status_code == 409
    assert "Run As" in refused.json()["message"]
    assert (await bridge.connection())["status"] == "credentials_saved"


USER = "admin@acme.test"


@pytest.mark.parametrize(
    ("body", "error", "says"),
    [
        ({"flow": "jwt_bearer", "private_key_pem": PAIR.private_pem}, "invalid_setup", "username"),
        ({"flow": "jwt_bearer", "username": USER}, "invalid", "private key"),
        (
            {"flow": "jwt_bearer", "username": USER, "private_key_pem": "hello"},
            "invalid_setup",
            "PEM",
        ),
        (
            {
                "flow": "jwt_bearer",
                "username": USER,
                "private_key_pem": "-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----",
            },
            "invalid_setup",
            "not a readable",
        ),
        (
            {"flow": "jwt_bearer", "username": USER, "private_key_pem": encrypted_pem()},
            "invalid_setup",
            "passphrase",
        ),
        (
            {"flow": "jwt_bearer", "username": USER, "private_key_pem": ec_pem()},
            "invalid_setup",
            "RSA",
        ),
        (
            {"flow": "client_credentials", "client_secret": "s"},
            "invalid_login_url",
            "My Domain",
        ),
        (
            {
                "flow": "client_credentials",
                "client_secret": "s",
                "login_url": "https://test.salesforce.com",
            },
            "invalid_login_url",
            "My Domain",
        ),
        (
            {"flow": "client_credentials", "login_url": "https://acme.my.salesforce.com"},
            "invalid",
            "client secret",
        ),
        ({"flow": "web_server"}, "invalid", "client secret"),
        ({"flow": "password", "client_secret": "s"}, "invalid_request", "flow"),
        ({"client_secret": "s", "private_key": "x"}, "invalid_request", "private_key"),
        (
            {"flow": "jwt_bearer", "username": USER, "login_url": "https://evil.example.com"},
            "invalid_login_url",
            "evil.example.com",
        ),
    ],
)
async def test_an_invalid_setup_is_a_clear_422_and_saves_nothing(
    bridge: Bridge, body: dict[str, Any], error: str, says: str
) -> None:
    resp = await put(bridge, {"client_id": "3MVG9-test", **body})
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"] == error
    assert says in resp.json()["message"]
    assert (await bridge.connection())["status"] == "not_configured"


@pytest.mark.parametrize(
    ("body", "flow"),
    [
        (
            {
                "flow": "client_credentials",
                "client_secret": "s",
                "login_url": "https://acme.my.salesforce.com",
            },
            "client_credentials",
        ),
        (
            {
                "flow": "client_credentials",
                "client_secret": "s",
                "login_url": "https://acme--uat.sandbox.my.salesforce.com",
            },
            "client_credentials",
        ),
        (
            {
                "flow": "jwt_bearer",
                "username": USER,
                "private_key_pem": PAIR.private_pem,
                "login_url": "https://test.salesforce.com",
            },
            "jwt_bearer",
        ),
        ({"client_secret": "s", "login_url": "https://login.salesforce.com/"}, "web_server"),
    ],
)
async def test_valid_setups_are_saved(bridge: Bridge, body: dict[str, Any], flow: str) -> None:
    resp = await put(bridge, {"client_id": "3MVG9-test", **body})
    assert resp.status_code == 200, resp.text
    assert resp.json()["flow"] == flow
    assert resp.json()["status"] == "credentials_saved"


async def test_switching_flow_drops_the_old_grant(bridge: Bridge) -> None:
    app = bridge.new_app(jwt_public_key_pem=PAIR.public_pem)
    await bridge.save_web_server(app)
    await bridge.sign_in()
    assert (await bridge.connection())["status"] == "connected"
    # same web-server setup again (secret omitted): still connected
    same = await put(bridge, {"client_id": app["client_id"], "login_url": bridge.sf.url})
    assert same.status_code == 200 and same.json()["status"] == "connected"
    # another flow is another grant: tokens dropped, connect again
    switched = await put(
        bridge,
        {
            "flow": "jwt_bearer",
            "client_id": app["client_id"],
            "username": bridge.sf.credentials.username,
            "private_key_pem": PAIR.private_pem,
            "login_url": bridge.sf.url,
        },
    )
    assert switched.status_code == 200
    assert switched.json()["status"] == "credentials_saved"
    async with bridge.deps.db.transaction() as tx:
        conn = await connections.get(tx, BOX, bridge.workspace_id)
    assert conn is not None and conn.access_token is None and conn.refresh_token is None
    assert conn.client_secret.reveal() == app["client_secret"]  # kept, harmless
    outcome = (await bridge.api.post(f"{bridge.base}/connect")).json()
    assert outcome["connection"]["status"] == "connected"
    # and back to the web-server flow: the key is dropped, a browser sign-in is needed
    back = await put(bridge, {"client_id": app["client_id"], "login_url": bridge.sf.url})
    assert back.json()["flow"] == "web_server" and not back.json()["has_private_key"]
    assert back.json()["status"] == "credentials_saved"
    resp = await bridge.api.post(f"{bridge.base}/connect")
    assert resp.json()["authorize_url"].startswith(bridge.sf.url)
