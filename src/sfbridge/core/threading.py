"""Which session an inbound mail belongs to: a pure decision over looked-up candidates.

The service asks :func:`thread_keys` what to look up, loads the matching sessions into a
:class:`ThreadCandidates`, and calls :func:`choose_thread`. The order of evidence:

1. ``In-Reply-To``, then ``References`` from the newest id to the oldest: one of our stored
   message ids (a mail we received or sent).
2. Our thread token (:mod:`sfbridge.core.tokens`), in the subject first, then the body.
3. Outlook's ``Thread-Index``: its first 22 bytes name the conversation.
4. The same normalised subject from the same sender, within ``subject_window`` of the
   session's last activity (not for forwards: a forward is a new message).
5. Otherwise a new session.

Sender rules (pain point: one customer's mail attached to another customer's ticket):

* A token or subject match only counts when the sender is the session's contact (address
  compared case-insensitively). A token can be copied into anyone's mail; a subject can be
  shared by strangers.
* A header or Thread-Index match also counts for a different sender of the same domain (a
  colleague answering in the thread), unless that domain is a public mail provider
  (:data:`PUBLIC_MAIL_DOMAINS`), where "same domain" says nothing. Knowing a Message-ID
  means having been on the thread, so this is safe for company domains. Domains compare
  exactly: ``eu.acme.com`` is not ``acme.com``.
* A rejected candidate does not stop the search; later evidence may still match.

New topic: when a header, Thread-Index or body-token match points at a session whose
subject differs from the mail's subject, and the mail's subject carries no Re:/Fwd: prefix
(the sender rewrote the whole subject), the mail starts a new session (``new_topic``).
Turn this off with ``split_on_new_subject=False``. A token in the subject always wins.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from sfbridge.core import subjects
from sfbridge.core.errors import CoreError
from sfbridge.core.mailparse import ParsedEmail
from sfbridge.core.tokens import find_thread_tokens, make_thread_token, verify_thread_token

__all__ = [
    "DEFAULT_SUBJECT_WINDOW",
    "PUBLIC_MAIL_DOMAINS",
    "CandidateSession",
    "ThreadCandidates",
    "ThreadDecision",
    "ThreadKeys",
    "ThreadReason",
    "choose_thread",
    "find_thread_tokens",
    "make_message_id",
    "make_thread_token",
    "thread_index_key",
    "thread_keys",
    "verify_thread_token",
]

#: How long after a session's last activity a same-subject mail may still join it.
DEFAULT_SUBJECT_WINDOW = timedelta(days=3)

#: Domains shared by unrelated people; "same domain" means nothing there.
PUBLIC_MAIL_DOMAINS: frozenset[str] = frozenset(
    {
        "gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "msn.com",
        "yahoo.com", "ymail.com", "icloud.com", "me.com", "mac.com", "aol.com", "gmx.de",
        "gmx.net", "gmx.com", "web.de", "t-online.de", "freenet.de", "proton.me",
        "protonmail.com", "pm.me", "mail.com", "yandex.ru", "yandex.com", "mail.ru", "qq.com",
        "163.com", "126.com", "orange.fr", "free.fr", "laposte.net", "wanadoo.fr", "libero.it",
        "hotmail.co.uk", "yahoo.co.uk", "btinternet.com", "comcast.net", "zoho.com", "fastmail.com",
    }
)  # fmt: skip

_DOMAIN = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


class ThreadReason(StrEnum):
    """Why a mail was (or was not) put in a session."""

    IN_REPLY_TO = "in_reply_to"  #: In-Reply-To names a message of the session
    REFERENCES = "references"  #: References names a message of the session
    #: our thread token, sender is the contact
    TOKEN = "token"  # noqa: S105 - a reason name, not a secret
    THREAD_INDEX = "thread_index"  #: Outlook's conversation id
    SUBJECT = "subject"  #: same subject, same sender, recent
    NEW_TOPIC = "new_topic"  #: a thread match, but the sender rewrote the subject
    NEW = "new"  #: nothing matched


@dataclass(frozen=True, kw_only=True, slots=True)
class CandidateSession:
    """A session the service found for one of the keys."""

    session_id: str
    contact_address: str
    subject_key: str = ""  #: :func:`~sfbridge.core.subjects.normalize_subject` of its subject
    last_activity: datetime | None = None  #: aware; needed for subject matches


@dataclass(frozen=True, kw_only=True, slots=True)
class ThreadKeys:
    """What the service has to look up before calling :func:`choose_thread`."""

    message_ids: tuple[str, ...]  #: In-Reply-To first, then References newest first
    tokens: tuple[str, ...]  #: canonical tokens, subject first
    thread_index: str | None  #: :func:`thread_index_key` of the header
    subject_key: str  #: normalised subject ("" when none)
    sender: str  #: the From address, lower-cased


@dataclass(frozen=True, kw_only=True, slots=True)
class ThreadCandidates:
    """Sessions found for the keys of one mail (missing keys are simply absent)."""

    by_message_id: Mapping[str, CandidateSession] = field(default_factory=dict)
    by_token: Mapping[str, CandidateSession] = field(default_factory=dict)
    by_thread_index: Mapping[str, CandidateSession] = field(default_factory=dict)
    #: this sender's sessions with the same subject key (others are ignored anyway)
    recent_from_sender: Sequence[CandidateSession] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class ThreadDecision:
    """The outcome: a session id, or ``None`` for a new session, and why."""

    session_id: str | None
    reason: ThreadReason
    colleague: bool = False  #: matched by header from a same-domain colleague
    notes: tuple[str, ...] = ()  #: candidates turned down and why, for the trace


def thread_index_key(value: str | None) -> str | None:
    """Return the conversation key of an Outlook ``Thread-Index`` header, or ``None``.

    The header is base64 of a 22-byte conversation header plus 5 bytes per reply; the key
    is the first 22 bytes, base64 again, so every message of a conversation shares it.
    """
    if not value:
        return None
    compact = "".join(value.split())
    try:
        raw = base64.b64decode(compact + "=" * (-len(compact) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(raw) < 22:
        return None
    return base64.b64encode(raw[:22]).decode("ascii")


def thread_keys(email: ParsedEmail, *, tags: Sequence[str] | None = None) -> ThreadKeys:
    """Return the lookup keys of a mail.

    Args:
        email: the parsed mail.
        tags: gateway tags for :func:`~sfbridge.core.subjects.normalize_subject`.
    """
    message_ids: list[str] = []
    for message_id in (email.in_reply_to, *reversed(email.references)):
        if message_id and message_id not in message_ids and message_id != email.message_id:
            message_ids.append(message_id)
    tokens = find_thread_tokens(email.subject)
    for token in find_thread_tokens(email.text):
        if token not in tokens:
            tokens.append(token)
    return ThreadKeys(
        message_ids=tuple(message_ids),
        tokens=tuple(tokens),
        thread_index=thread_index_key(email.thread_index),
        subject_key=subjects.normalize_subject(email.subject, tags=tags),
        sender=email.from_address.casefold(),
    )


def _domain(address: str) -> str:
    return address.rpartition("@")[2].casefold() if "@" in address else ""


def _same_person(sender: str, candidate: CandidateSession) -> bool:
    return bool(sender) and sender == candidate.contact_address.strip().casefold()


def _colleague(sender: str, candidate: CandidateSession, public_domains: frozenset[str]) -> bool:
    domain = _domain(sender)
    return (
        bool(domain)
        and domain not in public_domains
        and domain == _domain(candidate.contact_address.strip())
    )


def choose_thread(
    email: ParsedEmail,
    candidates: ThreadCandidates,
    *,
    now: datetime,
    subject_window: timedelta = DEFAULT_SUBJECT_WINDOW,
    public_domains: frozenset[str] = PUBLIC_MAIL_DOMAINS,
    split_on_new_subject: bool = True,
    tags: Sequence[str] | None = None,
) -> ThreadDecision:
    """Decide which session ``email`` belongs to (see the module docstring for the rules).

    Args:
        email: the parsed inbound mail.
        candidates: the sessions the service found for :func:`thread_keys` of this mail.
        now: the current time (aware), for the subject window.
        subject_window: how recent a same-subject session must be.
        public_domains: domains where a same-domain sender is not a colleague.
        split_on_new_subject: start a new session when a thread match comes with a
            rewritten subject.
        tags: gateway tags for subject normalisation.

    Returns:
        The decision; ``session_id`` is ``None`` for a new session.
    """
    keys = thread_keys(email, tags=tags)
    notes: list[str] = []
    rewritten = (
        split_on_new_subject and bool(keys.subject_key) and not subjects.has_prefix(email.subject)
    )

    def accept(
        candidate: CandidateSession,
        reason: ThreadReason,
        *,
        allow_colleague: bool,
        check_topic: bool,
    ) -> ThreadDecision | None:
        same = _same_person(keys.sender, candidate)
        colleague = (
            not same and allow_colleague and _colleague(keys.sender, candidate, public_domains)
        )
        if not (same or colleague):
            notes.append(f"{reason}: session {candidate.session_id} belongs to another contact")
            return None
        if (
            check_topic
            and rewritten
            and candidate.subject_key
            and (candidate.subject_key != keys.subject_key)
        ):
            return ThreadDecision(
                session_id=None,
                reason=ThreadReason.NEW_TOPIC,
                notes=(
                    *notes,
                    f"{reason}: session {candidate.session_id} has another subject",
                ),
            )
        return ThreadDecision(
            session_id=candidate.session_id, reason=reason, colleague=colleague, notes=tuple(notes)
        )

    for position, message_id in enumerate(keys.message_ids):
        candidate = candidates.by_message_id.get(message_id)
        if candidate is None:
            continue
        is_reply_to = position == 0 and message_id == email.in_reply_to
        reason = ThreadReason.IN_REPLY_TO if is_reply_to else ThreadReason.REFERENCES
        decision = accept(candidate, reason, allow_colleague=True, check_topic=True)
        if decision is not None:
            return decision

    subject_tokens = set(find_thread_tokens(email.subject))
    for token in keys.tokens:
        candidate = candidates.by_token.get(token)
        if candidate is None:
            continue
        decision = accept(
            candidate,
            ThreadReason.TOKEN,
            allow_colleague=False,
            check_topic=token not in subject_tokens,
        )
        if decision is not None:
            return decision

    if keys.thread_index is not None:
        candidate = candidates.by_thread_index.get(keys.thread_index)
        if candidate is not None:
            decision = accept(
                candidate, ThreadReason.THREAD_INDEX, allow_colleague=True, check_topic=True
            )
            if decision is not None:
                return decision

    if keys.subject_key and not subjects.is_forward(email.subject):
        recent = [
            candidate
            for candidate in candidates.recent_from_sender
            if candidate.subject_key == keys.subject_key
            and _same_person(keys.sender, candidate)
            and candidate.last_activity is not None
            and now - candidate.last_activity <= subject_window
        ]
        if recent:
            best = max(recent, key=lambda c: (c.last_activity or now, c.session_id))
            return ThreadDecision(
                session_id=best.session_id, reason=ThreadReason.SUBJECT, notes=tuple(notes)
            )

    return ThreadDecision(session_id=None, reason=ThreadReason.NEW, notes=tuple(notes))


def make_message_id(domain: str) -> str:
    """Return a new, unique Message-ID for a mail we send, e.g. ``<sfb.1f3c...@acme.test>``.

    Args:
        domain: the domain of the workspace's support address. Ids under our own domain
            keep replies threadable through relays that check them.

    Raises:
        CoreError: ``domain`` is not a valid domain name.
    """
    if not _DOMAIN.match(domain):
        raise CoreError(f"not a valid domain for a Message-ID: {domain!r}", field="domain")
    return f"<sfb.{secrets.token_hex(16)}@{domain.lower()}>"
