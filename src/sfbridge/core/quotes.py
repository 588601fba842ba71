"""Keep what the sender wrote; drop quoted history and signatures.

Rules, applied line by line (the text is never rewritten, only lines are dropped):

* Lines starting with ``>`` are quoted history and go, wherever they are, so bottom-posted
  and inline answers between quotes survive.
* An attribution line ("On ... wrote:", "Am ... schrieb ...:", "Le ... a écrit :",
  "El ... escribió:", "Op ... schreef ...:", "Il ... ha scritto:", "Em ... escreveu:",
  "Den ... skrev ...:", wrapped over up to three lines) goes with it. If what follows it is
  not ``>``-quoted (clients that quote without markers), everything from it on goes.
* From an "-----Original Message-----" separator (and its German, French, Spanish, Dutch,
  Italian, Portuguese, Swedish forms), an Outlook header block ("From:" followed within a
  few lines by at least two of Sent/Date, To, Cc, Subject, in the same languages) or an
  underscore rule followed by such a block, everything goes.
* From a signature delimiter ("-- " on its own line) or a mobile footer ("Sent from my
  iPhone", "Get Outlook for Android", "Von meinem iPhone gesendet", ...), everything goes.

From a forward marker ("---------- Forwarded message ---------", "Begin forwarded
message:" and translations) everything is kept as written: the sender meant us to read it. If the rules would leave nothing, the whole text is returned instead, so
a message is never reduced to an empty string by mistake.
"""

from __future__ import annotations

import re

__all__ = ["strip_quoted"]

_ATTRIBUTION_OPENERS = r"(?:on|am|le|el|op|il|em|den|på|w dniu|dne)"
_ATTRIBUTION_ENDINGS = (
    r"(?:wrote|writes|schrieb|a\s+écrit|a\s+ecrit|escribió|escribio|schreef|ha\s+scritto"
    r"|escreveu|skrev|kirjoitti|napisał|napisal|napsal|yazdı)"
)
_ATTRIBUTION = re.compile(
    rf"^\s*{_ATTRIBUTION_OPENERS}\b.{{0,400}}?\b{_ATTRIBUTION_ENDINGS}(?:\s*|\b.{{0,200}}):\s*$",
    re.IGNORECASE,
)
# "Ann Lee <ann@example.com> wrote:" without a date; only trusted right before a quote.
_BARE_ATTRIBUTION = re.compile(rf"^\s*\S.{{0,200}}\b{_ATTRIBUTION_ENDINGS}\s*:\s*$", re.IGNORECASE)
_ORIGINAL_MESSAGE = re.compile(
    r"^\s*[-_=*\s]*(?:original\s+message|ursprüngliche\s+nachricht|originalnachricht"
    r"|message\s+d'origine|message\s+original|mensaje\s+original|oorspronkelijk\s+bericht"
    r"|messaggio\s+originale|mensagem\s+original|ursprungligt\s+meddelande"
    r"|oprindelig\s+meddelelse|alkuperäinen\s+viesti)\s*[-_=*\s]*$",
    re.IGNORECASE,
)
_FORWARD_MARKER = re.compile(
    r"^\s*[-_=*\s]*(?:forwarded\s+message|begin\s+forwarded\s+message:?|weitergeleitete\s+nachricht"
    r"|message\s+transféré|mensaje\s+reenviado|doorgestuurd\s+bericht|messaggio\s+inoltrato"
    r"|mensagem\s+encaminhada)\s*[-_=*\s]*$",
    re.IGNORECASE,
)
_UNDERSCORE_RULE = re.compile(r"^\s*_{10,}\s*$")
_HEADER_LABEL = re.compile(r"^\s*\*?\s*([^\W\d_][^:*]{0,20}?)\s*\*?\s*:\s*\*?(?:\s|$)")
_FROM_LABELS = frozenset({"from", "von", "de", "van", "da", "från", "fra", "od", "lähettäjä"})
_OTHER_LABELS = {
    "date": frozenset(
        {"sent", "date", "gesendet", "datum", "envoyé", "envoye", "enviado", "fecha",
         "verzonden", "inviato", "data", "skickat", "sendt", "lähetetty", "wysłano"}
    ),
    "to": frozenset({"to", "an", "à", "a", "para", "aan", "till", "til", "vastaanottaja", "do"}),
    "cc": frozenset({"cc", "kopie", "copie", "kopia"}),
    "subject": frozenset(
        {"subject", "betreff", "objet", "asunto", "onderwerp", "oggetto", "assunto", "ämne",
         "emne", "aihe", "temat"}
    ),
}  # fmt: skip
_SIGNATURE = re.compile(r"^(?:--|—|-- ?)\s?$")
_MOBILE_FOOTER = re.compile(
    r"^\s*(?:sent\s+from\s+my\s+\w+(?:\s+\w+){0,3}"
    r"|sent\s+from\s+(?:outlook(?:\s+for\s+\w+)?|mail\s+for\s+windows(?:\s+1[01])?"
    r"|yahoo\s+mail(?:\s+for\s+\w+)?|proton\s*mail(?:\s+mobile)?|gmail\s+mobile)"
    r"|get\s+outlook\s+for\s+(?:ios|android)"
    r"|von\s+meinem\s+\w+(?:\s+\w+)?\s+gesendet|gesendet\s+von\s+meinem\s+\w+(?:\s+\w+)?"
    r"|envoyé\s+de\s+mon\s+\w+(?:\s+\w+)?|enviado\s+desde\s+mi\s+\w+(?:\s+\w+)?"
    r"|enviado\s+do\s+meu\s+\w+(?:\s+\w+)?|verstuurd\s+vanaf\s+mijn\s+\w+(?:\s+\w+)?"
    r"|inviato\s+dal\s+mio\s+\w+(?:\s+\w+)?|inviato\s+da\s+iphone"
    r"|skickat\s+från\s+min\s+\w+(?:\s+\w+)?)\s*[.!]?\s*$",
    re.IGNORECASE,
)
_QUOTED = re.compile(r"^\s*>")


def _label(line: str) -> str | None:
    match = _HEADER_LABEL.match(line)
    return match.group(1).strip().casefold() if match else None


def _is_header_block(lines: list[str], start: int) -> bool:
    if _label(lines[start]) not in _FROM_LABELS:
        return False
    kinds: set[str] = set()
    for line in lines[start + 1 : start + 8]:
        label = _label(line)
        for kind, names in _OTHER_LABELS.items():
            if label in names:
                kinds.add(kind)
    return len(kinds) >= 2


def _attribution_end(lines: list[str], start: int) -> int | None:
    """Return the index after an attribution starting at ``start`` (it may wrap), or None."""
    for span in (1, 2, 3):
        if start + span > len(lines):
            break
        candidate = " ".join(line.strip() for line in lines[start : start + span])
        if _ATTRIBUTION.match(candidate):
            return start + span
    return None


def _next_content_index(lines: list[str], index: int) -> int | None:
    for position in range(index, len(lines)):
        if lines[position].strip():
            return position
    return None


def _next_content(lines: list[str], index: int) -> str | None:
    position = _next_content_index(lines, index)
    return None if position is None else lines[position]


def strip_quoted(text: str) -> str:
    """Return the part of a mail body that the sender wrote.

    Args:
        text: a plain-text body (``\\r\\n`` or ``\\n`` line ends).

    Returns:
        The body without quoted history and signature, trailing spaces trimmed, runs of
        blank lines collapsed to one and outer blank lines removed; the whole (tidied)
        text when the rules would leave nothing.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    index = 0
    while index < len(lines):
        line = lines[index]
        if _FORWARD_MARKER.match(line):
            kept.extend(lines[index:])
            break
        if _QUOTED.match(line):
            index += 1
            continue
        end = _attribution_end(lines, index)
        if end is None and _BARE_ATTRIBUTION.match(line):
            following = _next_content(lines, index + 1)
            end = index + 1 if following is not None and _QUOTED.match(following) else None
        if end is not None:
            following = _next_content(lines, end)
            if following is None or _QUOTED.match(following):
                index = end
                continue
            break
        if _ORIGINAL_MESSAGE.match(line) or _is_header_block(lines, index):
            break
        if _UNDERSCORE_RULE.match(line):
            following_index = _next_content_index(lines, index + 1)
            if following_index is not None and _is_header_block(lines, following_index):
                break
        if _SIGNATURE.match(line) or _MOBILE_FOOTER.match(line):
            break
        kept.append(line)
        index += 1
    result = _tidy(kept)
    return result if result else _tidy(lines)


def _tidy(lines: list[str]) -> str:
    out: list[str] = []
    for line in lines:
        line = line.rstrip()
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)
