"""The Case Subject (topic) and Description (an extractive summary) of a conversation.

The summary is extractive and explainable: it only ever contains sentences the customer
wrote. Sentences of the customer's messages are scored by how often their words occur
across those messages (stop words left out), divided by the square root of the sentence's
word count so long sentences do not win by length. The first sentence of the first
customer message is always kept (it usually says what is wrong); then the best-scoring
sentences are added while they fit, earlier sentences winning ties; the result keeps the
conversation's order. Same input, same output.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

from sfbridge.core import subjects
from sfbridge.core.transcript import AuthorKind, TranscriptLine

__all__ = ["CASE_SUBJECT_MAX_CHARS", "extractive_summary", "sentences", "topic"]

#: Salesforce's length of ``Case.Subject``.
CASE_SUBJECT_MAX_CHARS = 255
_ELLIPSIS = "…"
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n\s*\n|\n(?=\s*[-*•]\s)")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
# Words that say nothing about the problem (en, de, fr, es); one string reads better here.
_STOP_WORDS = frozenset(
    """
    a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its itself
    just me more most my no nor not now of off on once only or other our ours out over own
    same she should so some such than that the their theirs them then there these they this
    those through to too under until up very was we were what when where which while who whom
    why will with would you your yours hello hi dear thanks thank please regards best kind
    der die das und ist nicht ein eine ich sie wir mit von zu den dem des auf für bitte danke
    le la les et est pas un une je vous nous avec pour de du des merci bonjour
    el los las y es no una yo usted con por para gracias hola
    """.split()  # noqa: SIM905 - a word list is easier to read and edit as prose
)


def sentences(text: str) -> list[str]:
    """Split text into sentences (on ``.!?…`` followed by space, blank lines, bullets)."""
    parts = (re.sub(r"\s+", " ", part).strip() for part in _SENTENCE_END.split(text))
    return [part for part in parts if part]


def _words(sentence: str) -> list[str]:
    return [
        word
        for word in (match.casefold() for match in _WORD.findall(sentence))
        if len(word) > 1 and word not in _STOP_WORDS and not word.isdigit()
    ]


def _shorten(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    if max_chars <= len(_ELLIPSIS):
        return text[:max_chars]
    head = text[: max_chars - len(_ELLIPSIS)]
    space = head.rfind(" ")
    if space >= len(head) // 2:
        head = head[:space]
    return head.rstrip(" ,;:-") + _ELLIPSIS


def extractive_summary(messages: Sequence[TranscriptLine], max_chars: int = 1000) -> str:
    """Return a summary of at most ``max_chars`` characters made of the customer's sentences.

    Args:
        messages: the conversation; only ``contact`` messages are used, or all messages
            when the customer wrote none.
        max_chars: the length limit.

    Returns:
        Sentences joined by spaces, in conversation order; ``""`` when there is no text.
    """
    chosen_messages = [m for m in messages if m.author_kind == AuthorKind.CONTACT] or list(messages)
    pool: list[str] = []
    seen: set[str] = set()
    for message in chosen_messages:
        for sentence in sentences(message.text):
            key = sentence.casefold()
            if key not in seen:
                seen.add(key)
                pool.append(sentence)
    if not pool or max_chars <= 0:
        return ""
    frequency = Counter(word for sentence in pool for word in _words(sentence))

    def score(sentence: str) -> float:
        words = _words(sentence)
        if not words:
            return 0.0
        return sum(frequency[word] for word in set(words)) / math.sqrt(len(words))

    first = _shorten(pool[0], max_chars)
    keep = {0}
    used = len(first)
    ranking = sorted(range(1, len(pool)), key=lambda index: (-score(pool[index]), index))
    for index in ranking:
        cost = len(pool[index]) + 1
        if used + cost <= max_chars:
            keep.add(index)
            used += cost
    return " ".join(first if index == 0 else pool[index] for index in sorted(keep))


def topic(
    messages: Sequence[TranscriptLine],
    subject: str | None,
    *,
    max_chars: int = CASE_SUBJECT_MAX_CHARS,
) -> str:
    """Return the Case Subject: the mail subject without prefixes, tags or our token.

    Falls back to the first sentence of the first customer message (or of any message),
    then to ``"(no subject)"``; shortened to ``max_chars`` at a word boundary.
    """
    text = subjects.clean_subject(subject)
    if not text:
        ordered = [m for m in messages if m.author_kind == AuthorKind.CONTACT] or list(messages)
        for message in ordered:
            found = sentences(message.text)
            if found:
                text = found[0]
                break
    return _shorten(text or subjects.NO_SUBJECT, max_chars)
