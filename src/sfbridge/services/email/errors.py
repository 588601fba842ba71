"""The email-cases service's errors (the web layer maps them to statuses)."""

from __future__ import annotations

from sfbridge.errors import BridgeError


class EmailError(BridgeError):
    """The email-cases service could not do what was asked."""


class SessionNotFound(EmailError):
    """No such email session in this workspace."""


class AddressTaken(EmailError):
    """That address already routes mail to a workspace; remove it there first."""


class AddressNotFound(EmailError):
    """That address does not route mail to this workspace."""


class NoSupportAddress(EmailError):
    """This workspace has no mail address yet; add one (POST .../mail-addresses) first."""


class InvalidMail(EmailError):
    """The request body is not an email message (send the raw RFC 822 bytes)."""


class MailTooLarge(EmailError):
    """The message is larger than the configured limit."""


class UnknownRecipient(EmailError):
    """No workspace owns that recipient address."""


class InvalidSettings(EmailError):
    """The email settings are invalid."""


class SessionResolved(EmailError):
    """The session is resolved; the contact's next mail opens a new one."""
