"""Message-IDs of outgoing mail: making them, checking them, chaining them.

Our ids are ``<sfb.<key>@<domain>>``; a stable key (an outbox row id) gives a stable
id, so a retried send is recognisably the same message.
"""

from __future__ import annotations

import hashlib
import re
import uuid

from sfbridge.mail.errors import MailComposeError

MAX_REFERENCES = 20
"""References keeps the thread's first id plus the newest ids, this many in all."""

_MSGID_BODY = re.compile(r"^[!-~]+$")  # visible ASCII, no whitespace
_SAFE_KEY = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def normalise_message_id(value: str) -> str:
    """Return a Message-ID in its ``<...>`` form, checking it is safe for a header.

    Args:
        value: An id with or without angle brackets.

    Returns:
        The id wrapped in angle brackets.

    Raises:
        MailComposeError: The id is empty, has whitespace or non-ASCII, or is too long.
    """
    body = value.strip()
    if body.startswith("<") and body.endswith(">"):
        body = body[1:-1]
    if not body or not _MSGID_BODY.match(body) or "<" in body or ">" in body:
        raise MailComposeError(f"malformed Message-ID: {value!r}")
    if len(body) > 900:
        raise MailComposeError("Message-ID longer than 900 characters")
    return f"<{body}>"


def references_chain(references: tuple[str, ...], in_reply_to: str | None) -> tuple[str, ...]:
    """Build the References chain: the thread so far, ending with In-Reply-To.

    Duplicates are dropped (first occurrence kept) and a long chain keeps its first
    id (the thread root) and the newest ids, `MAX_REFERENCES` in all.

    Args:
        references: The ids of the thread, oldest first.
        in_reply_to: The id of the message answered, appended when missing.

    Returns:
        Normalised ids, oldest first.
    """
    seen: dict[str, None] = {}
    for item in (*references, *((in_reply_to,) if in_reply_to else ())):
        seen.setdefault(normalise_message_id(item), None)
    if in_reply_to:
        last = normalise_message_id(in_reply_to)
        seen.pop(last)
        seen[last] = None
    chain = tuple(seen)
    if len(chain) > MAX_REFERENCES:
        chain = (chain[0], *chain[-(MAX_REFERENCES - 1) :])
    return chain


def make_message_id(*, domain: str, key: str | None = None) -> str:
    """Make a Message-ID in our domain.

    Args:
        domain: The right-hand side, e.g. the support address's domain.
        key: A stable key (e.g. the outbox row id) to make the id deterministic, so a
            retried send keeps its id; ``None`` makes a random id.

    Returns:
        An id such as ``<sfb.4f2a...@support.example.com>``.
    """
    if key is None:
        local = uuid.uuid4().hex
    elif _SAFE_KEY.match(key):
        local = key
    else:
        local = hashlib.sha256(key.encode()).hexdigest()[:32]
    return normalise_message_id(f"sfb.{local}@{ascii_domain(domain)}")


def ascii_domain(domain: str) -> str:
    """Return a domain in ASCII (IDNA punycode for internationalised names).

    Raises:
        MailComposeError: The domain cannot be encoded.
    """
    if domain.isascii():
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError as exc:
        raise MailComposeError(f"invalid domain: {domain!r}") from exc
