"""Mail adapters: the protocol edges of email (no business parsing here).

- `inbound`: `InboundSmtpServer`, the SMTP listener handing raw messages to the service.
- `outbound`: the `Mailer` port, `SmtpMailer` (a relay, via aiosmtplib), `DevMailbox`.
- `compose`: `OutgoingEmail` and `build_mime`, plus subject/footer thread-token helpers.
- `msgid`: Message-ID making, checking and References chains.
- `sink`: `SmtpSink`, a recording SMTP server with fault switches, for tests and benches.
- `listener`: running aiosmtpd on the service's own event loop.
- `errors`: the `MailError` tree; aiosmtplib, ssl and socket errors never leave this package.

Import the modules, e.g. ``from sfbridge.mail import outbound`` then ``outbound.SmtpMailer``.
"""
