"""Email-cases testing helpers, shipped with sfbridge: used by our tests, e2e and benchmarks.

- :func:`connect_workspace`: a workspace connected to an org (an emulated one, usually: any
  object shaped like ``sfemu.testing.EmulatedSalesforce`` will do, sfbridge does not import
  the emulator), with a support address and a webhook token;
- :func:`salesforce_access` and :func:`fast_runtime`: the email runtime with short backoffs;
- :class:`RecordingTransport`: outgoing mail kept in memory, optionally refused first;
- :func:`make_mail`: a plain-text mail as a customer's client writes it.

Example::

    with emulated_salesforce() as sf:
        ws = await connect_workspace(db, sf, box=TEST_BOX)
        access = salesforce_access(db, TEST_BOX, http)
        rt = fast_runtime(db, app, access, RecordingTransport())
"""

from __future__ import annotations

import datetime as dt
import email.message
import email.utils
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx
from procrastinate import App

from sfbridge.mail.compose import MailEnvelope
from sfbridge.mail.errors import MailTemporaryError
from sfbridge.salesforce.governor import Governor
from sfbridge.secrets import SecretBox, encode_key
from sfbridge.services import tracing
from sfbridge.services.email import sessions as email_api
from sfbridge.services.email.runtime import Backoff, EmailRuntime, Transport
from sfbridge.services.email.settings import EmailSettings
from sfbridge.services.sfaccess import SalesforceAccess
from sfbridge.store import connections, workspaces
from sfbridge.store.db import Database

#: A fixed encryption key for tests (never use it for real data).
TEST_KEY = bytes(range(32))
#: The box sealing the test workspaces' secrets; a process started with
#: ``SFBRIDGE_ENCRYPTION_KEY=TEST_KEY_TEXT`` opens them.
TEST_BOX = SecretBox(TEST_KEY)
TEST_KEY_TEXT = encode_key(TEST_KEY)
SUPPORT_ADDRESS = "support@acme.test"
WEBHOOK_TOKEN = "whk_email_tests_0123456789abcdef"  # noqa: S105  (a test value, not a secret)


class OrgCredentials(Protocol):
    """The connected app and user of an org (``sfemu``'s ``Credentials`` fits)."""

    @property
    def client_id(self) -> str:
        """The connected app's consumer key."""
        ...

    @property
    def client_secret(self) -> str:
        """The connected app's consumer secret."""
        ...

    @property
    def user_id(self) -> str:
        """The integration user's id."""
        ...

    @property
    def username(self) -> str:
        """The integration user's username."""
        ...


class OrgLogin(Protocol):
    """A logged-in org (``sfemu.testing.EmulatedSalesforce`` fits)."""

    @property
    def url(self) -> str:
        """The instance URL."""
        ...

    @property
    def org_id(self) -> str:
        """The organization id."""
        ...

    @property
    def access_token(self) -> str:
        """A valid access token."""
        ...

    @property
    def refresh_token(self) -> str | None:
        """Its refresh token."""
        ...

    @property
    def credentials(self) -> OrgCredentials:
        """The connected app and user."""
        ...


@dataclass
class RecordingTransport:
    """A transport that keeps what it was given; ``fail_next`` refusals come first (451)."""

    sent: list[tuple[bytes, MailEnvelope]] = field(default_factory=list)
    fail_next: int = 0
    name: str = "memory"

    async def deliver(
        self, workspace_id: str, raw: bytes, envelope: MailEnvelope, *, subject: str
    ) -> str:
        """Keep the message, or refuse it while ``fail_next`` is positive.

        Raises:
            MailTemporaryError: a refusal asked for by ``fail_next``.
        """
        if self.fail_next:
            self.fail_next -= 1
            raise MailTemporaryError("451 try again later")
        self.sent.append((raw, envelope))
        return f"memory:{len(self.sent)}"


async def connect_workspace(
    db: Database,
    org: OrgLogin,
    *,
    box: SecretBox = TEST_BOX,
    name: str = "Acme",
    support_address: str = SUPPORT_ADDRESS,
    webhook_token: str = WEBHOOK_TOKEN,
    settings: EmailSettings | None = None,
) -> str:
    """Create a workspace connected to ``org``, with a support address and webhook token.

    Args:
        db: The database.
        org: The org to connect to, already logged in.
        box: Seals the tokens (a worker process must be started with the same key).
        name: The workspace's name.
        support_address: The address whose mail reaches the workspace.
        webhook_token: The token in the workspace's webhook URL.
        settings: Email settings to store, if not the defaults.

    Returns:
        The new workspace's id.
    """
    async with db.transaction() as tx:
        ws = await workspaces.create(tx, name=name)
        await connections.save_credentials(
            tx,
            box,
            ws.id,
            login_url=org.url,
            client_id=org.credentials.client_id,
            client_secret=org.credentials.client_secret,
        )
        await connections.mark_connected(
            tx,
            box,
            ws.id,
            instance_url=org.url,
            org_id=org.org_id,
            user_id=org.credentials.user_id,
            username=org.credentials.username,
            is_sandbox=False,
            access_token=org.access_token,
            refresh_token=org.refresh_token,
            issued_at=dt.datetime.now(dt.UTC),
        )
        await connections.set_webhook_token(tx, box, ws.id, webhook_token)
    await email_api.add_address(db, ws.id, support_address)
    if settings is not None:
        await email_api.put_settings(db, ws.id, settings)
    return ws.id


def salesforce_access(
    db: Database, box: SecretBox, http: httpx.AsyncClient, *, governor: Governor | None = None
) -> SalesforceAccess:
    """Salesforce clients for the workspaces, traced like ``serve``'s."""
    return SalesforceAccess(
        db, box, http, governor or Governor(), recorder_for=tracing.RECORDER.for_org
    )


def fast_runtime(
    db: Database, app: App, access: SalesforceAccess, transport: Transport, **kwargs: Any
) -> EmailRuntime:
    """A runtime with short backoffs, so retries happen within a test."""
    return EmailRuntime(
        db=db,
        jobs=app,
        access=access,
        transport=transport,
        reply_backoff=Backoff(base_seconds=0.05, cap_seconds=0.2, attempts=5),
        salesforce_backoff=Backoff(base_seconds=0.05, cap_seconds=0.2, attempts=6),
        reconnect_wait_seconds=0.1,
        **kwargs,
    )


def make_mail(
    *,
    sender: str = "ann@customer.test",
    name: str = "Ann Lee",
    to: str = SUPPORT_ADDRESS,
    subject: str = "Printer on fire",
    body: str = "Hello, my printer is on fire. Please help.",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """A plain-text mail as a customer's client would write it."""
    msg = email.message.EmailMessage()
    msg["From"] = email.utils.formataddr((name, sender))
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = email.utils.format_datetime(dt.datetime.now(dt.UTC))
    msg["Message-ID"] = message_id or email.utils.make_msgid(domain="customer.test")
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    if references:
        msg["References"] = references
    for key, value in (headers or {}).items():
        msg[key] = value
    msg.set_content(body)
    return msg.as_bytes()
