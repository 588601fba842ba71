"""The connection service's errors and the rules a setup must follow before it is saved.

Pure (no I/O): :func:`check_setup` normalises what an admin typed for a flow and raises
:class:`InvalidSetup` with a sentence naming the field to fix. The login-URL policy itself
lives in :mod:`sfbridge.salesforce.authorize`; it needs the workspace (demo or not).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sfbridge.errors import BridgeError
from sfbridge.salesforce import oauth
from sfbridge.store.connections import AuthFlow

SAVE_FIRST = "Save the connected app's client id, client secret and login URL first."

#: How each flow is named in messages.
FLOW_NAMES = {
    AuthFlow.WEB_SERVER: "web server",
    AuthFlow.JWT_BEARER: "JWT bearer",
    AuthFlow.CLIENT_CREDENTIALS: "client credentials",
}

#: What to check when Salesforce refuses a flow's grant.
FLOW_HINTS = {
    AuthFlow.WEB_SERVER: "Click Connect again.",
    AuthFlow.JWT_BEARER: (
        "Check that the app's certificate matches the private key, that the user is "
        "pre-authorized (Admin approved users are pre-authorized) and the login URL is right."
    ),
    AuthFlow.CLIENT_CREDENTIALS: (
        "Check the client secret, that Enable Client Credentials Flow is ticked with a Run As "
        "user, and that the login URL is your My Domain URL."
    ),
}


class ConnectionProblem(BridgeError):
    """The Salesforce connection cannot do that."""


class InvalidSetup(ConnectionProblem):
    """The connection setup is incomplete or invalid; the message says which field to fix."""


class UnknownWorkspace(BridgeError):
    """No such workspace."""


class CallbackRejected(BridgeError):
    """The sign-in coming back from Salesforce was refused."""


@dataclass(frozen=True, kw_only=True, slots=True)
class CheckedSetup:
    """A setup that follows the flow's rules (the login URL is checked separately)."""

    flow: AuthFlow
    client_id: str
    username: str | None  #: JWT bearer only
    private_key_pem: str | None = field(repr=False)  #: JWT bearer only; None keeps the stored


def parse_flow(value: AuthFlow | str) -> AuthFlow:
    """Read a flow name.

    Raises:
        InvalidSetup: not one of the flows.
    """
    try:
        return AuthFlow(value)
    except ValueError:
        choices = ", ".join(f.value for f in AuthFlow)
        raise InvalidSetup(f"Unknown flow {value!r}; choose one of {choices}.") from None


def check_setup(
    flow: AuthFlow | str,
    *,
    client_id: str,
    username: str | None = None,
    private_key_pem: str | None = None,
) -> CheckedSetup:
    """Check and normalise a setup for its flow.

    Args:
        flow: ``web_server``, ``jwt_bearer`` or ``client_credentials``.
        client_id: the consumer key (surrounding blanks removed).
        username: JWT bearer: the user to act as (required).
        private_key_pem: JWT bearer: an unencrypted RSA private key (PEM); ``None`` keeps
            the stored one. Ignored by the other flows.

    Raises:
        InvalidSetup: the message names the field to fix.
    """
    chosen = parse_flow(flow)
    client_id = client_id.strip()
    if not client_id:
        raise InvalidSetup("Enter the connected app's Consumer Key as the client id.")
    if chosen is not AuthFlow.JWT_BEARER:
        return CheckedSetup(flow=chosen, client_id=client_id, username=None, private_key_pem=None)
    username = (username or "").strip() or None
    if username is None:
        raise InvalidSetup("Enter the Salesforce username sfbridge acts as (JWT bearer flow).")
    if private_key_pem is not None:
        problem = oauth.private_key_problem(private_key_pem)
        if problem:
            raise InvalidSetup(problem[0].upper() + problem[1:] + ".")
        private_key_pem = private_key_pem.strip() + "\n"
    return CheckedSetup(
        flow=chosen, client_id=client_id, username=username, private_key_pem=private_key_pem
    )
