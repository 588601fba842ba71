"""Should this mail go to a human? Rules and the contact's own words.

:func:`wants_handoff` checks, in order: ``every_email``, the sender's domain, phrases in
which the contact asks for a person, and admin keywords. Pass the text *after*
:func:`sfbridge.core.quotes.strip_quoted`, or our own quoted words could trigger it.

Phrase matching is case-insensitive, on whole words, tolerant of line breaks and curly
apostrophes. A phrase does not count when a negation ("not", "don't", "no need", "never",
"without", "nicht", "kein", "pas", "jamais", "sin", "nunca", "niet", "geen" ...) stands
within the four words before it in the same clause ("I don't need to talk to a person").
Limits, by design: a negation after the phrase is not seen ("a real person, not now"
counts), "can't"/"couldn't" are not negations ("I couldn't reach a real person" counts),
and a question ("are you a real person?") counts. Keywords are plain triggers, never
negated: an admin who lists "refund" wants every mail that says it.

Office hours live in :mod:`sfbridge.core.office_hours` and are re-exported here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from sfbridge.core.office_hours import (
    HandoffTiming,
    OfficeHours,
    OutsideHoursPolicy,
    is_open,
    next_opening,
    schedule_handoff,
)

__all__ = [
    "DEFAULT_PHRASES",
    "HandoffReason",
    "HandoffRules",
    "HandoffTiming",
    "HandoffTrigger",
    "OfficeHours",
    "OutsideHoursPolicy",
    "is_open",
    "next_opening",
    "schedule_handoff",
    "wants_handoff",
]

#: Phrases in which a contact asks for a person (English, German, French, Spanish).
DEFAULT_PHRASES: tuple[str, ...] = (
    "speak to a human",
    "speak with a human",
    "talk to a human",
    "talk with a human",
    "speak to a person",
    "speak with a person",
    "talk to a person",
    "talk with a person",
    "speak to someone",
    "speak with someone",
    "talk to someone",
    "talk with someone",
    "real person",
    "real human",
    "human agent",
    "human being",
    "live agent",
    "live person",
    "customer service representative",
    "customer support representative",
    "speak to a representative",
    "talk to a representative",
    "speak to an agent",
    "talk to an agent",
    "escalate",
    "mit einem menschen",
    "echten menschen",
    "mit einem mitarbeiter sprechen",
    "parler à un humain",
    "parler à une personne",
    "parler à quelqu'un",
    "un vrai humain",
    "une vraie personne",
    "hablar con una persona",
    "hablar con un humano",
    "hablar con alguien",
    "persona real",
    "agente humano",
)

_NEGATIONS = frozenset(
    {
        "not", "no", "never", "don't", "dont", "doesn't", "doesnt", "didn't", "didnt", "won't",
        "wont", "wouldn't", "shouldn't", "needn't", "without", "nobody", "neither", "nor",
        "nicht", "kein", "keine", "keinen", "nie", "ohne", "pas", "jamais", "sans", "ne",
        "sin", "nunca", "niet", "geen", "nooit", "zonder",
    }
)  # fmt: skip
_CONTRASTS = frozenset({"but", "however", "aber", "doch", "mais", "pero", "maar"})
_CLAUSE_END = re.compile(r"[.!?;,:\n()]")
_WORD = re.compile(r"[\w']+")
_LOOKBACK_WORDS = 4


class HandoffTrigger(StrEnum):
    """Which rule asked for a human."""

    EVERY_EMAIL = "every_email"  #: the workspace hands off every mail
    SENDER_DOMAIN = "sender_domain"  #: the sender's domain is on the list
    PHRASE = "phrase"  #: the contact asked for a person
    KEYWORD = "keyword"  #: an admin keyword appears


@dataclass(frozen=True, kw_only=True, slots=True)
class HandoffRules:
    """A workspace's handoff rules. The defaults hand off when a contact asks for a person."""

    phrases: tuple[str, ...] = DEFAULT_PHRASES
    sender_domains: frozenset[str] = frozenset()  #: also matches subdomains
    keywords: tuple[str, ...] = ()
    every_email: bool = False


@dataclass(frozen=True, kw_only=True, slots=True)
class HandoffReason:
    """Why a mail goes to a human: the rule and what matched (for the trace)."""

    trigger: HandoffTrigger
    detail: str


def _fold(text: str) -> str:
    return text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'").casefold()


@lru_cache(maxsize=64)
def _patterns(phrases: tuple[str, ...]) -> tuple[tuple[str, re.Pattern[str]], ...]:
    compiled = []
    for phrase in phrases:
        words = _fold(phrase).split()
        if words:
            body = r"\s+".join(re.escape(word) for word in words)
            compiled.append((phrase, re.compile(rf"(?<![\w']){body}(?![\w'])")))
    return tuple(compiled)


def _negated(folded: str, start: int) -> bool:
    clause_start = 0
    for match in _CLAUSE_END.finditer(folded, 0, start):
        clause_start = match.end()
    words = _WORD.findall(folded[clause_start:start])
    for index in range(len(words) - 1, -1, -1):
        if words[index] in _CONTRASTS:
            words = words[index + 1 :]
            break
    return any(word in _NEGATIONS for word in words[-_LOOKBACK_WORDS:])


def _sender_domain_matches(sender: str, domains: frozenset[str]) -> str | None:
    domain = sender.rpartition("@")[2].casefold() if "@" in sender else ""
    if not domain:
        return None
    for listed in domains:
        wanted = listed.strip().lstrip("@").casefold()
        if wanted and (domain == wanted or domain.endswith("." + wanted)):
            return wanted
    return None


def wants_handoff(text: str, rules: HandoffRules, *, sender: str = "") -> HandoffReason | None:
    """Say whether a mail should go to a human, and why; ``None`` when no rule fires.

    Args:
        text: what the contact wrote (quoted history already stripped).
        rules: the workspace's rules.
        sender: the From address, for ``sender_domains``.
    """
    if rules.every_email:
        return HandoffReason(trigger=HandoffTrigger.EVERY_EMAIL, detail="every email")
    domain = _sender_domain_matches(sender, rules.sender_domains)
    if domain is not None:
        return HandoffReason(trigger=HandoffTrigger.SENDER_DOMAIN, detail=domain)
    folded = _fold(text)
    for phrase, pattern in _patterns(tuple(rules.phrases)):
        for match in pattern.finditer(folded):
            if not _negated(folded, match.start()):
                return HandoffReason(trigger=HandoffTrigger.PHRASE, detail=phrase)
    for keyword, pattern in _patterns(tuple(rules.keywords)):
        if pattern.search(folded):
            return HandoffReason(trigger=HandoffTrigger.KEYWORD, detail=keyword)
    return None
