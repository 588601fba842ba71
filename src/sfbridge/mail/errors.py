"""Errors raised by the mail adapters.

Foreign exceptions (aiosmtplib, ssl, OSError) are translated here, at the edge, so
callers only ever see this tree::

    MailError
    ├── MailComposeError        the message cannot be built (bad header value, address)
    └── MailDeliveryError       the relay did not take the message (.code, .reply)
        ├── MailTemporaryError  4xx reply, refused/dropped connection, timeout: retry later
        │   └── MailAuthenticationError  the relay refused our credentials: fix, then retry
        └── MailPermanentError  5xx reply to the sender, recipients or data: do not retry
"""

from __future__ import annotations


class MailError(Exception):
    """A mail adapter failed."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__)


class MailComposeError(MailError, ValueError):
    """The outgoing message cannot be built from the given values."""


class MailDeliveryError(MailError):
    """The relay did not take the message.

    Attributes:
        code: The SMTP reply code, or ``None`` when no reply was received
            (connection refused, dropped, timed out).
        reply: The relay's reply text (or a description of the failure).
    """

    def __init__(self, message: str | None = None, *, code: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reply = str(self.args[0])


class MailTemporaryError(MailDeliveryError):
    """The relay could not take the message now; sending it again later may work."""


class MailAuthenticationError(MailTemporaryError):
    """The relay refused our credentials; the message waits until the settings are fixed."""


class MailPermanentError(MailDeliveryError):
    """The relay refused the message for good; sending it again will fail the same way."""
