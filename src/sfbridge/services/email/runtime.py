"""What the email-cases service needs at run time, built once per process.

``serve`` and ``worker`` build it with :func:`runtime_from_deps`; the job tasks find it in
their context (``worker_options(db, context={"deps": deps})`` is enough) through
:func:`runtime_from_context`. Tests build :class:`EmailRuntime` directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from procrastinate import App, JobContext

from sfbridge.mail.compose import MailEnvelope
from sfbridge.mail.outbound import SmtpMailer
from sfbridge.salesforce.client import SalesforceClient
from sfbridge.services.email.errors import EmailError
from sfbridge.store import email_inbound
from sfbridge.store.db import Database

#: The context key under which a worker may hand the runtime to the tasks.
CONTEXT_KEY = "email_runtime"


class ClientSource(Protocol):
    """Hands out a workspace's Salesforce client (``SalesforceAccess`` does)."""

    async def client(self, workspace_id: str) -> SalesforceClient:
        """The workspace's client; raises ``ReconnectNeeded`` when it is not connected."""
        ...


class Transport(Protocol):
    """Hands a rendered message to a relay (or the dev mailbox)."""

    @property
    def name(self) -> str:
        """A short name for traces (``smtp``, ``dev-mailbox``)."""
        ...

    async def deliver(
        self, workspace_id: str, raw: bytes, envelope: MailEnvelope, *, subject: str
    ) -> str:
        """Deliver; return the relay's reply or the stored id.

        Raises:
            MailTemporaryError: retry later.
            MailPermanentError: never retry.
        """
        ...


@dataclass(frozen=True, slots=True)
class SmtpTransport:
    """Through the configured SMTP relay."""

    mailer: SmtpMailer
    name: str = "smtp"

    async def deliver(
        self, workspace_id: str, raw: bytes, envelope: MailEnvelope, *, subject: str
    ) -> str:
        result = await self.mailer.send_raw(raw, envelope)
        return result.reply


@dataclass(frozen=True, slots=True)
class DevMailboxTransport:
    """Into the ``dev_mailbox`` table (no relay configured: the demo keeps working)."""

    db: Database
    name: str = "dev-mailbox"

    async def deliver(
        self, workspace_id: str, raw: bytes, envelope: MailEnvelope, *, subject: str
    ) -> str:
        async with self.db.transaction() as tx:
            stored = await email_inbound.dev_mailbox_store(
                tx,
                workspace_id,
                envelope_from=envelope.mail_from,
                to=envelope.rcpt_tos,
                subject=subject,
                raw=raw,
            )
        return f"dev-mailbox:{stored}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Backoff:
    """Delays between attempts: ``base * 2**n`` capped at ``cap``, at most ``attempts``."""

    base_seconds: float = 2.0
    cap_seconds: float = 600.0
    attempts: int = 8

    def delay(self, attempt: int) -> float:
        """Seconds to wait after the ``attempt``-th failure (1-based)."""
        return float(min(self.cap_seconds, self.base_seconds * 2 ** max(attempt - 1, 0)))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True, kw_only=True, slots=True)
class EmailRuntime:
    """The email-cases service's dependencies.

    Attributes:
        db: the database.
        jobs: the procrastinate app (opened by the caller).
        access: hands out Salesforce clients.
        transport: where outgoing mail goes.
        public_url: sfbridge's public base URL (webhook URLs in the Apex setup).
        reply_backoff: retries of outgoing mail while the relay fails temporarily.
        salesforce_backoff: retries of Salesforce work while Salesforce fails.
        reconnect_wait_seconds: how long Salesforce work waits for a reconnect.
        crash_after_composite: test hook: raise right after the handoff's composite call.
        clock: the current time (aware).
    """

    db: Database
    jobs: App
    access: ClientSource
    transport: Transport
    public_url: str = "http://127.0.0.1:8080"
    reply_backoff: Backoff = field(default_factory=Backoff)
    salesforce_backoff: Backoff = field(
        default_factory=lambda: Backoff(base_seconds=5.0, cap_seconds=900.0, attempts=12)
    )
    reconnect_wait_seconds: float = 300.0
    crash_after_composite: Callable[[], None] | None = None
    clock: Callable[[], dt.datetime] = _now
    smtp_hostname: str = "localhost"
    extra: dict[str, Any] = field(default_factory=dict)


def transport_for(settings: Any, db: Database) -> Transport:
    """The transport the settings ask for: the SMTP relay, else the dev mailbox."""
    smtp = settings.smtp
    if smtp.host is None:
        return DevMailboxTransport(db)
    return SmtpTransport(
        SmtpMailer(
            smtp.host,
            smtp.port,
            username=smtp.username,
            password=smtp.password.reveal() if smtp.password is not None else None,
            starttls=True if smtp.starttls else None,
            use_tls=smtp.tls,
        )
    )


def runtime_from_deps(deps: Any) -> EmailRuntime:
    """Build the runtime from the process's ``Deps`` (serve and worker call this)."""
    cached = deps.extras.get(CONTEXT_KEY)
    if isinstance(cached, EmailRuntime):
        return cached
    runtime = EmailRuntime(
        db=deps.db,
        jobs=deps.jobs,
        access=deps.access,
        transport=transport_for(deps.settings, deps.db),
        public_url=deps.settings.public_url,
    )
    deps.extras[CONTEXT_KEY] = runtime
    return runtime


def runtime_from_context(context: JobContext) -> EmailRuntime:
    """The runtime a task runs with: ``email_runtime`` in the worker context, else ``deps``."""
    extra = context.additional_context
    runtime = extra.get(CONTEXT_KEY)
    if isinstance(runtime, EmailRuntime):
        return runtime
    deps = extra.get("deps")
    if deps is not None:
        return runtime_from_deps(deps)
    raise EmailError(
        "The worker was started without the email runtime: pass "
        "worker_options(db, context={'deps': deps})."
    )


def chunks(items: Sequence[str], size: int) -> list[Sequence[str]]:
    """Consecutive slices of at most ``size`` items."""
    return [items[i : i + size] for i in range(0, len(items), size)]
