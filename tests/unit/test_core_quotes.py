"""strip_quoted on real-looking bodies from the mail clients people use."""

from __future__ import annotations

import pytest

from sfbridge.core.quotes import strip_quoted

GMAIL_TOP = """Thanks, that fixed it!

Ann

On Mon, Jun 2, 2025 at 10:14 AM Acme Support <support@acme.test> wrote:
> Hello Ann,
>
> Please restart the printer.
"""

GMAIL_WRAPPED = """Still broken after the restart.

On Mon, Jun 2, 2025 at 10:14 AM Acme Support Team <
support@acme.test> wrote:

> Please restart the printer.
"""

OUTLOOK_EN = """Hi team,

the invoice is attached.

Best regards
Bob

________________________________
From: Acme Support <support@acme.test>
Sent: Monday, June 2, 2025 10:14 AM
To: Bob Miller <bob@example.com>
Subject: RE: Invoice missing

Hello Bob, could you send the invoice?
"""

OUTLOOK_BOLD = """Yes, please go ahead.

*From:* Acme Support <support@acme.test>
*Sent:* Monday, June 2, 2025 10:14 AM
*To:* Bob <bob@example.com>
*Subject:* Confirm order

Shall we ship?
"""

OUTLOOK_DE = """Hallo,

das Problem besteht weiterhin.

Von: Acme Support <support@acme.test>
Gesendet: Montag, 2. Juni 2025 10:14
An: Jens <jens@example.de>
Betreff: AW: Drucker defekt

Bitte starten Sie den Drucker neu.
"""

ORIGINAL_MESSAGE = """Please cancel my order.

-----Original Message-----
From: shop@acme.test
Sent: Monday, June 2, 2025 10:14 AM
Your order has shipped.
"""

URSPRUENGLICHE = """Danke für die schnelle Hilfe.

-----Ursprüngliche Nachricht-----
Von: support@acme.test
Wir haben Ihr Ticket erhalten.
"""

GERMAN_ATTRIBUTION = """Leider funktioniert es nicht.

Am Mo., 2. Juni 2025 um 10:14 Uhr schrieb Acme Support <support@acme.test>:
> Bitte neu starten.
"""

FRENCH_ATTRIBUTION = """Merci beaucoup, c'est réglé.

Le lun. 2 juin 2025 à 10:14, Acme Support <support@acme.test> a écrit :
> Pouvez-vous redémarrer ?
"""

SPANISH_ATTRIBUTION = """Sigue sin funcionar.

El lun, 2 jun 2025 a las 10:14, Acme Support (<support@acme.test>) escribió:
> ¿Puede reiniciar la impresora?
"""

DUTCH_ATTRIBUTION = """Het werkt weer, bedankt.

Op ma 2 jun. 2025 om 10:14 schreef Acme Support <support@acme.test>:
> Kunt u de printer herstarten?
"""

IPHONE = """Ok, I'll try tonight.

Sent from my iPhone

> On 2 Jun 2025, at 10:14, Acme Support <support@acme.test> wrote:
>
> Please restart the printer.
"""

SIGNATURE = """The serial number is 48-1516-2342.

--
Bob Miller
Head of IT, Example GmbH
+49 30 1234567
"""

INLINE = """> Which model do you have?
LaserJet 4000.

> Since when does it fail?
Since Monday morning.
"""

BOTTOM_POSTED = """On Mon, Jun 2, 2025 at 10:14 AM Acme Support <support@acme.test> wrote:
> Did the restart help?

No, it did not help.
"""

ONLY_QUOTE = """> Did the restart help?
> Please tell us.
"""

FORWARD = """FYI, see the message below from our supplier.

---------- Forwarded message ---------
From: Supplier <sales@supplier.test>
Date: Mon, Jun 2, 2025 at 9:00 AM
Subject: Delivery delayed
To: <bob@example.com>

Your delivery is delayed by two weeks.
"""

OUTLOOK_FOR_ANDROID = """Call me back please.

Get Outlook for Android
________________________________
From: Acme Support <support@acme.test>
Sent: Monday, June 2, 2025 10:14:00 AM
To: Bob <bob@example.com>
Subject: Your ticket
"""

PROSE_FROM_LINE = """From: my point of view the update broke it.
Please roll it back.
"""

CRLF = "Line one\r\nLine two\r\n\r\n\r\n\r\nLine three\r\n> quoted\r\n"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (GMAIL_TOP, "Thanks, that fixed it!\n\nAnn"),
        (GMAIL_WRAPPED, "Still broken after the restart."),
        (OUTLOOK_EN, "Hi team,\n\nthe invoice is attached.\n\nBest regards\nBob"),
        (OUTLOOK_BOLD, "Yes, please go ahead."),
        (OUTLOOK_DE, "Hallo,\n\ndas Problem besteht weiterhin."),
        (ORIGINAL_MESSAGE, "Please cancel my order."),
        (URSPRUENGLICHE, "Danke für die schnelle Hilfe."),
        (GERMAN_ATTRIBUTION, "Leider funktioniert es nicht."),
        (FRENCH_ATTRIBUTION, "Merci beaucoup, c'est réglé."),
        (SPANISH_ATTRIBUTION, "Sigue sin funcionar."),
        (DUTCH_ATTRIBUTION, "Het werkt weer, bedankt."),
        (IPHONE, "Ok, I'll try tonight."),
        (SIGNATURE, "The serial number is 48-1516-2342."),
        (INLINE, "LaserJet 4000.\n\nSince Monday morning."),
        (BOTTOM_POSTED, "No, it did not help."),
        (ONLY_QUOTE, "> Did the restart help?\n> Please tell us."),
        (FORWARD, FORWARD.strip()),
        (OUTLOOK_FOR_ANDROID, "Call me back please."),
        (PROSE_FROM_LINE, PROSE_FROM_LINE.strip()),
        (CRLF, "Line one\nLine two\n\nLine three"),
        ("", ""),
        ("Just one line", "Just one line"),
    ],
    ids=[
        "gmail-top",
        "gmail-wrapped-attribution",
        "outlook-en",
        "outlook-bold-labels",
        "outlook-de",
        "original-message",
        "urspruengliche-nachricht",
        "german-attribution",
        "french-attribution",
        "spanish-attribution",
        "dutch-attribution",
        "iphone-footer",
        "signature-delimiter",
        "inline-answers",
        "bottom-posted",
        "only-quote-kept",
        "forward-kept",
        "outlook-for-android",
        "prose-from-line",
        "crlf-and-blank-runs",
        "empty",
        "one-line",
    ],
)
def test_strip_quoted(body: str, expected: str) -> None:
    assert strip_quoted(body) == expected


@pytest.mark.parametrize(
    "footer",
    [
        "Sent from my iPhone",
        "Sent from my Galaxy S23 Ultra",
        "Sent from Outlook for iOS",
        "Sent from Mail for Windows",
        "Get Outlook for iOS",
        "Von meinem iPhone gesendet",
        "Envoyé de mon iPad",
        "Enviado desde mi iPhone",
        "Verstuurd vanaf mijn iPhone",
        "Inviato da iPhone",
    ],
)
def test_mobile_footers_end_the_reply(footer: str) -> None:
    assert strip_quoted(f"Yes.\n\n{footer}\n\nold stuff") == "Yes."


@pytest.mark.parametrize(
    "line",
    [
        "Sent via DHL, tracking number 12345.",
        "Sent from the office yesterday, the parcel is lost.",
        "Someone wrote: nothing useful in the manual.",
    ],
)
def test_prose_that_looks_like_a_marker_is_kept(line: str) -> None:
    body = f"Hello,\n{line}\nThanks"
    assert strip_quoted(body) == body
