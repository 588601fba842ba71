"""The generated Apex: names, URL shape, events, bulk safety, test coverage.

We cannot compile Apex here, so these tests check the text's structure.
"""

from __future__ import annotations

import re

import pytest

from sfbridge.core.apex import (
    BATCH_SIZE,
    CLASS_NAME,
    EVENTS,
    TEST_CLASS_NAME,
    ApexBundle,
    render_apex,
)
from sfbridge.core.errors import CoreError

BUNDLE = render_apex("Acme_Webhook")


def _balanced(source: str) -> bool:
    stripped = re.sub(r"/\*.*?\*/|//[^\n]*", "", source, flags=re.DOTALL)  # comments
    stripped = re.sub(r"'(?:[^'\\]|\\.)*'", "''", stripped)  # string literals
    depth = 0
    for char in stripped:
        depth += {"{": 1, "}": -1}.get(char, 0)
        if depth < 0:
            return False
    return depth == 0 and stripped.count("(") == stripped.count(")")


@pytest.mark.parametrize(
    "source",
    [
        BUNDLE.callout_class,
        BUNDLE.case_trigger,
        BUNDLE.casecomment_trigger,
        BUNDLE.emailmessage_trigger,
        BUNDLE.test_class,
    ],
)
def test_sources_are_balanced_and_name_the_credential_only_as_given(source: str) -> None:
    assert _balanced(source)
    assert "$" not in source  # every template placeholder was filled
    assert "sfbridge_webhook" not in source


def test_callout_class_shape() -> None:
    source = BUNDLE.callout_class
    assert f"public with sharing class {CLASS_NAME} {{" in source
    assert re.search(
        r"@future\(callout=true\)\s+public static void sendCaseEvent\(Id caseId, String eventType\)",
        source,
    )
    assert re.search(
        r"@future\(callout=true\)\s+public static void sendCaseEvents\(List<Id>", source
    )
    assert "req.setEndpoint('callout:Acme_Webhook?caseId='" in source
    assert "+ '&event=' + EncodingUtil.urlEncode(eventType, 'UTF-8')" in source
    assert "req.setMethod('POST');" in source
    assert "req.setHeader('Content-Type', 'application/json');" in source
    assert "req.setBody('');" in source
    assert f"BATCH_SIZE = {BATCH_SIZE};" in source
    assert "Limits.getFutureCalls() >= Limits.getLimitFutureCalls()" in source
    assert "Limits.getCallouts() >= Limits.getLimitCallouts()" in source
    assert "System.isFuture()" in source
    assert BATCH_SIZE * 10_000 <= 120_000  # a batch stays under the 120 s callout budget


@pytest.mark.parametrize(
    ("source", "header", "events"),
    [
        (
            BUNDLE.case_trigger,
            "trigger SfbridgeCaseTrigger on Case (after insert, after update)",
            ["case_created", "case_closed", "case_reopened", "case_status"],
        ),
        (
            BUNDLE.casecomment_trigger,
            "trigger SfbridgeCaseCommentTrigger on CaseComment (after insert)",
            ["comment_created"],
        ),
        (
            BUNDLE.emailmessage_trigger,
            "trigger SfbridgeEmailMessageTrigger on EmailMessage (after insert)",
            ["email_sent"],
        ),
    ],
)
def test_triggers(source: str, header: str, events: list[str]) -> None:
    assert header in source
    sent = re.findall(rf"{CLASS_NAME}\.notify\([^,]+, '([a-z_]+)'\)", source)
    assert sent == events
    assert "Set<Id>" in source or "keySet()" in source  # ids collected, one call per event


def test_every_event_is_sent_by_some_trigger() -> None:
    triggers = BUNDLE.case_trigger + BUNDLE.casecomment_trigger + BUNDLE.emailmessage_trigger
    assert sorted(re.findall(r"'([a-z_]+)'\)", triggers)) == sorted(EVENTS)


def test_trigger_conditions() -> None:
    assert "c.IsClosed != previous.IsClosed" in BUNDLE.case_trigger
    assert "c.Status != previous.Status" in BUNDLE.case_trigger
    assert "comment.IsPublished" in BUNDLE.casecomment_trigger
    assert "caseIds.add(comment.ParentId)" in BUNDLE.casecomment_trigger
    assert "!message.Incoming" in BUNDLE.emailmessage_trigger
    assert "message.ParentId.getSObjectType() == Case.SObjectType" in BUNDLE.emailmessage_trigger


def test_test_class_covers_class_and_all_triggers() -> None:
    source = BUNDLE.test_class
    assert source.count("@IsTest") >= 6
    assert f"private class {TEST_CLASS_NAME} {{" in source
    assert "implements HttpCalloutMock" in source
    assert "startsWith('callout:Acme_Webhook?caseId=')" in source
    methods = re.findall(r"@IsTest\s+static void (\w+)\(\)", source)
    assert len(methods) == 6
    for method in re.split(r"@IsTest\s+static void ", source)[1:]:
        body = method.split("\n", 1)[1]
        # The mock comes first: any DML fires a trigger that queues a callout.
        assert body.lstrip().startswith("Test.setMock(HttpCalloutMock.class"), method[:40]
    assert "insert cases;" in source  # the bulk path
    assert "new CaseComment(" in source
    assert "new EmailMessage(" in source
    assert f"{CLASS_NAME}.sendCaseEvent(" in source
    assert f"{CLASS_NAME}.sendCaseEvents(" in source
    assert "WHERE IsClosed = true" in source or "statusWhere(true)" in source


def test_files_layout() -> None:
    files = BUNDLE.files()
    assert sorted(files) == [
        "classes/SfbridgeCallout.cls",
        "classes/SfbridgeCalloutTest.cls",
        "triggers/SfbridgeCaseCommentTrigger.trigger",
        "triggers/SfbridgeCaseTrigger.trigger",
        "triggers/SfbridgeEmailMessageTrigger.trigger",
    ]
    assert files["classes/SfbridgeCallout.cls"] == BUNDLE.callout_class


def test_default_credential_name() -> None:
    bundle = render_apex()
    assert isinstance(bundle, ApexBundle)
    assert "callout:sfbridge_webhook?caseId=" in bundle.callout_class


@pytest.mark.parametrize(
    "name",
    [
        "",
        "1abc",
        "_abc",
        "abc_",
        "a__b",
        "a-b",
        "a b",
        "x'); System.debug('owned",
        "a" * 81,
        "callout:x",
    ],
)
def test_invalid_credential_names_are_refused(name: str) -> None:
    with pytest.raises(CoreError):
        render_apex(name)
