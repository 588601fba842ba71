"""wants_handoff: rules, phrases, negations."""

from __future__ import annotations

import pytest

from sfbridge.core.handoff import HandoffRules, HandoffTrigger, wants_handoff

DEFAULT = HandoffRules()


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        ("Can I speak to a human please?", "speak to a human"),
        ("I want to TALK TO A PERSON.", "talk to a person"),
        ("Let me talk\nto someone about this", "talk to someone"),
        ("Is there a real person reading this?", "real person"),
        ("Please connect me with a human agent", "human agent"),
        ("I need a customer service representative now", "customer service representative"),
        ("Please escalate this ticket", "escalate"),
        ("Not happy at all, I want to talk to someone", "talk to someone"),
        ("This is not working but I want to talk to someone", "talk to someone"),
        ("I couldn't reach a real person by phone", "real person"),
        ("I’d like to speak with someone", "speak with someone"),
        ("Ich möchte mit einem Menschen sprechen", "mit einem menschen"),
        ("Je voudrais parler à un humain", "parler à un humain"),
        ("Quiero hablar con una persona", "hablar con una persona"),
        ("No thanks. I want to talk to a person", "talk to a person"),
    ],
)
def test_phrases_trigger(text: str, detail: str) -> None:
    reason = wants_handoff(text, DEFAULT)
    assert reason is not None
    assert (reason.trigger, reason.detail) == (HandoffTrigger.PHRASE, detail)


@pytest.mark.parametrize(
    "text",
    [
        "The printer is broken.",
        "I'm not a human, I'm a robot tester.",
        "I don't need to talk to a person, the bot is fine.",
        "No need to escalate, it works now.",
        "Please do not escalate this.",
        "I never asked for a human agent",
        "Ich möchte nicht mit einem Menschen sprechen",
        "Je ne veux pas parler à un humain",
        "No quiero hablar con una persona",
        "The escalated ticket was solved",
        "Our realperson.com account is locked",
        "We talked to someone yesterday",
        "",
    ],
)
def test_no_trigger(text: str) -> None:
    assert wants_handoff(text, DEFAULT) is None


@pytest.mark.parametrize(
    ("rules", "text", "sender", "trigger", "detail"),
    [
        (HandoffRules(every_email=True), "hello", "", HandoffTrigger.EVERY_EMAIL, "every email"),
        (
            HandoffRules(sender_domains=frozenset({"vip.test"})),
            "hello",
            "ceo@vip.test",
            HandoffTrigger.SENDER_DOMAIN,
            "vip.test",
        ),
        (
            HandoffRules(sender_domains=frozenset({"@VIP.test"})),
            "hello",
            "a@eu.vip.test",
            HandoffTrigger.SENDER_DOMAIN,
            "vip.test",
        ),
        (
            HandoffRules(keywords=("refund",)),
            "I want a REFUND.",
            "",
            HandoffTrigger.KEYWORD,
            "refund",
        ),
        (
            HandoffRules(keywords=("legal action",)),
            "we will take legal\naction",
            "",
            HandoffTrigger.KEYWORD,
            "legal action",
        ),
        (
            HandoffRules(keywords=("refund",)),
            "I don't want a refund",
            "",
            HandoffTrigger.KEYWORD,
            "refund",
        ),
        (
            HandoffRules(phrases=("call me",)),
            "please call me",
            "",
            HandoffTrigger.PHRASE,
            "call me",
        ),
        (
            HandoffRules(every_email=True, keywords=("refund",)),
            "refund",
            "",
            HandoffTrigger.EVERY_EMAIL,
            "every email",
        ),
        (
            HandoffRules(sender_domains=frozenset({"vip.test"}), keywords=("x",)),
            "x",
            "a@vip.test",
            HandoffTrigger.SENDER_DOMAIN,
            "vip.test",
        ),
    ],
)
def test_rules(
    rules: HandoffRules, text: str, sender: str, trigger: HandoffTrigger, detail: str
) -> None:
    reason = wants_handoff(text, rules, sender=sender)
    assert reason is not None
    assert (reason.trigger, reason.detail) == (trigger, detail)


@pytest.mark.parametrize(
    ("rules", "text", "sender"),
    [
        (HandoffRules(sender_domains=frozenset({"vip.test"})), "hello", "a@notvip.test"),
        (HandoffRules(sender_domains=frozenset({"vip.test"})), "hello", "a@vip.test.evil.com"),
        (HandoffRules(sender_domains=frozenset({"vip.test"})), "hello", ""),
        (HandoffRules(keywords=("refund",)), "refunded already", ""),
        (HandoffRules(phrases=()), "talk to a person", ""),
    ],
)
def test_rules_that_do_not_fire(rules: HandoffRules, text: str, sender: str) -> None:
    assert wants_handoff(text, rules, sender=sender) is None
