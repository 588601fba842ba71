"""Subjects without reply and forward prefixes, gateway tags or our thread token.

``clean_subject`` keeps the case for display (the Case Subject); ``normalize_subject``
case-folds it for comparing two subjects; ``reply_subject`` writes the subject of our
replies with exactly one ``Re:``.

Prefixes removed, repeatedly and in any mix: Re, Fw, Fwd (English), AW, WG, Antw (German),
SV, VS, VB, VL (Nordic), TR (French), RV, RES, ENC (Spanish, Portuguese), Antw, Doorst
(Dutch), R, RIF, I (Italian), Odp, PD (Polish), YNT, İLT (Turkish), with
counters such as ``Re[2]:`` or ``Re(3):`` and full-width colons. Tags are the
``[External]``-style markers that mail gateways add; the list is configurable.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from sfbridge.core.tokens import TOKEN_PATTERN

__all__ = [
    "DEFAULT_TAGS",
    "NO_SUBJECT",
    "clean_subject",
    "has_prefix",
    "is_forward",
    "normalize_subject",
    "reply_subject",
]

#: Tags that mail gateways put in front of (or into) subjects.
DEFAULT_TAGS: tuple[str, ...] = (
    "External",
    "EXT",
    "EXTERNAL EMAIL",
    "External Sender",
    "Externe",
    "Extern",
    "Externo",
    "SPAM",
    "Suspected Spam",
    "Possible Spam",
    "Phishing",
)

#: What we write when there is no subject; it normalises to the empty string.
NO_SUBJECT = "(no subject)"

_REPLY_WORDS = ("re", "aw", "sv", "antw", "antwort", "res", "rif", "odp", "ynt", "r", "vs")
_FORWARD_WORDS = (
    "fw",
    "fwd",
    "wg",
    "tr",
    "rv",
    "enc",
    "doorst",
    "vb",
    "vl",
    "i",
    "pd",
    "ilt",
    "i̇lt",
)
_COUNTER = r"(?:\s*[\[(]\d{1,3}[\])])?"
_PREFIX = re.compile(
    r"^\s*("
    + "|".join(sorted(_REPLY_WORDS + _FORWARD_WORDS, key=len, reverse=True))
    + ")"
    + _COUNTER
    + r"\s*[:：]\s*",
    re.IGNORECASE,
)
_PLACEHOLDERS = frozenset(
    {
        "(no subject)",
        "no subject",
        "(kein betreff)",
        "(sans objet)",
        "(sin asunto)",
        "(geen onderwerp)",
    }
)
_SPACES = re.compile(r"\s+")


def _tag_pattern(tags: Iterable[str]) -> re.Pattern[str] | None:
    names = sorted({tag.strip() for tag in tags if tag.strip()}, key=len, reverse=True)
    if not names:
        return None
    alternatives = "|".join(re.escape(name).replace(r"\ ", r"\s+") for name in names)
    upper = "|".join(re.escape(name.upper()).replace(r"\ ", r"\s+") for name in names)
    # Bracketed, parenthesised or starred tags in any case, anywhere; a bare "TAG:" only
    # at the start and only in capitals ("EXTERNAL: ...", never "Warning: ...").
    return re.compile(
        rf"(?i:\[\s*(?:{alternatives})\s*\]|\(\s*(?:{alternatives})\s*\)"
        rf"|\*+\s*(?:{alternatives})\s*\*+)|^\s*(?:{upper})\s*:"
    )


_DEFAULT_TAG_PATTERN = _tag_pattern(DEFAULT_TAGS)


def clean_subject(subject: str | None, *, tags: Iterable[str] | None = None) -> str:
    """Return the subject without prefixes, tags, our token and extra whitespace; case kept.

    Args:
        subject: the raw (decoded) subject; ``None`` counts as empty.
        tags: gateway tags to drop, e.g. ``("External",)`` drops ``[External]``,
            ``(External)``, ``*External*`` anywhere and ``External:`` at the start.
            ``None`` means :data:`DEFAULT_TAGS`; pass ``()`` to drop none.

    Returns:
        The subject, or ``""`` when nothing is left or it is a no-subject placeholder.
    """
    if not subject:
        return ""
    tag_pattern = _DEFAULT_TAG_PATTERN if tags is None else _tag_pattern(tags)
    text = _SPACES.sub(" ", TOKEN_PATTERN.sub(" ", subject)).strip()
    while True:
        before = text
        if tag_pattern is not None:
            text = tag_pattern.sub(" ", text)
        text = _PREFIX.sub("", text)
        text = _SPACES.sub(" ", text).strip()
        if text == before:
            break
    if text.casefold() in _PLACEHOLDERS:
        return ""
    return text


def normalize_subject(subject: str | None, *, tags: Iterable[str] | None = None) -> str:
    """Return the comparison key of a subject: :func:`clean_subject`, case-folded.

    Two mails are "about the same subject" when their keys are equal and not empty.
    """
    return clean_subject(subject, tags=tags).casefold()


def is_forward(subject: str | None) -> bool:
    """Say whether the outermost prefix of ``subject`` is a forward (Fwd:, WG:, TR: ...)."""
    if not subject:
        return False
    text = TOKEN_PATTERN.sub(" ", subject)
    if _DEFAULT_TAG_PATTERN is not None:
        text = _DEFAULT_TAG_PATTERN.sub(" ", text)
    match = _PREFIX.match(text)
    return match is not None and match.group(1).casefold() in _FORWARD_WORDS


def has_prefix(subject: str | None) -> bool:
    """Say whether ``subject`` starts with a reply or forward prefix (after tags and tokens)."""
    if not subject:
        return False
    text = TOKEN_PATTERN.sub(" ", subject)
    if _DEFAULT_TAG_PATTERN is not None:
        text = _DEFAULT_TAG_PATTERN.sub(" ", text)
    return _PREFIX.match(text) is not None


def reply_subject(
    subject: str | None, *, token: str | None = None, tags: Iterable[str] | None = None
) -> str:
    """Return the subject of a reply: exactly one ``Re:``, then the clean subject.

    Args:
        subject: the subject being answered (any prefixes, tags and tokens are dropped).
        token: our thread token, appended at the end when given.
        tags: as for :func:`clean_subject`.
    """
    text = clean_subject(subject, tags=tags) or NO_SUBJECT
    reply = f"Re: {text}"
    return f"{reply} {token}" if token else reply
