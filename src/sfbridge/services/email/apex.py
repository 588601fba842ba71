"""The Apex an admin installs so Salesforce tells sfbridge about Case changes.

Generated per workspace: a callout class (``@future(callout=true)``: triggers may not call
out synchronously), triggers on Case (after insert; after update when it closes or
reopens), CaseComment (after insert) and EmailMessage (after insert, outgoing only), and a
test class with an HTTP callout mock, because production orgs refuse Apex below 75 % test
coverage. The request is ``POST callout:<NamedCredential>?caseId=<id>&event=<event>`` with
a JSON content type and an empty body.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sfbridge.services.email.errors import EmailError

if TYPE_CHECKING:
    from sfbridge.deps import Deps

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,39}$")


@dataclass(frozen=True, kw_only=True, slots=True)
class ApexFile:
    """One file to create in Setup (or deploy)."""

    name: str  #: e.g. ``SfbridgeCallout.cls``
    kind: str  #: ``class`` or ``trigger``
    body: str


@dataclass(frozen=True, kw_only=True, slots=True)
class ApexBundle:
    """Everything to install, in order, with the Named Credential's settings."""

    named_credential: str
    webhook_url: str | None  #: ``None`` until Salesforce is connected (the token exists then)
    files: tuple[ApexFile, ...]
    instructions: str


def _callout(nc: str) -> str:
    return f"""public with sharing class SfbridgeCallout {{
    // Tells sfbridge that a Case changed. sfbridge reads the Case itself, so the
    // body stays empty and nothing personal leaves Salesforce in the request.
    @future(callout=true)
    public static void notify(Set<Id> caseIds, String event) {{
        for (Id caseId : caseIds) {{
            HttpRequest req = new HttpRequest();
            req.setEndpoint('callout:{nc}?caseId=' + caseId + '&event=' + event);
            req.setMethod('POST');
            req.setHeader('Content-Type', 'application/json');
            req.setBody('');
            req.setTimeout(10000);
            try {{
                new Http().send(req);
            }} catch (Exception e) {{
                // sfbridge's reconciliation catches what a failed callout missed.
                System.debug(LoggingLevel.WARN, 'sfbridge callout failed: ' + e.getMessage());
            }}
        }}
    }}

    public static void enqueue(Set<Id> caseIds, String event) {{
        if (caseIds.isEmpty() || System.isFuture() || System.isBatch()) {{
            return;
        }}
        notify(caseIds, event);
    }}
}}
"""


_CASE_TRIGGER = """trigger SfbridgeCaseTrigger on Case (after insert, after update) {
    Set<Id> created = new Set<Id>();
    Set<Id> changed = new Set<Id>();
    for (Case c : Trigger.new) {
        if (Trigger.isInsert) {
            created.add(c.Id);
        } else if (c.IsClosed != Trigger.oldMap.get(c.Id).IsClosed) {
            changed.add(c.Id);
        }
    }
    SfbridgeCallout.enqueue(created, 'case_created');
    SfbridgeCallout.enqueue(changed, 'case_status');
}
"""

_COMMENT_TRIGGER = """trigger SfbridgeCaseCommentTrigger on CaseComment (after insert) {
    Set<Id> cases = new Set<Id>();
    for (CaseComment cc : Trigger.new) {
        cases.add(cc.ParentId);
    }
    SfbridgeCallout.enqueue(cases, 'comment');
}
"""

_EMAIL_TRIGGER = """trigger SfbridgeEmailMessageTrigger on EmailMessage (after insert) {
    Set<Id> cases = new Set<Id>();
    for (EmailMessage em : Trigger.new) {
        if (!em.Incoming && em.ParentId != null
                && String.valueOf(em.ParentId).startsWith('500')) {
            cases.add(em.ParentId);
        }
    }
    SfbridgeCallout.enqueue(cases, 'email');
}
"""

_TEST = """@isTest
private class SfbridgeCalloutTest {
    private class Mock implements HttpCalloutMock {
        public Integer calls = 0;
        public HttpResponse respond(HttpRequest req) {
            calls++;
            System.assertEquals('POST', req.getMethod());
            System.assert(req.getEndpoint().contains('caseId='));
            HttpResponse res = new HttpResponse();
            res.setStatusCode(202);
            res.setBody('{"received":true}');
            return res;
        }
    }

    @isTest
    static void notifiesOnCaseCommentAndEmail() {
        Mock mock = new Mock();
        Test.setMock(HttpCalloutMock.class, mock);
        Test.startTest();
        Case c = new Case(Subject = 'sfbridge test', Origin = 'Email');
        insert c;
        insert new CaseComment(ParentId = c.Id, CommentBody = 'Hello', IsPublished = true);
        insert new EmailMessage(ParentId = c.Id, Incoming = false, TextBody = 'Hi',
            Subject = 'Re: sfbridge test', ToAddress = 'customer@example.com');
        c.Status = 'Closed';
        update c;
        Test.stopTest();
        System.assert(mock.calls >= 1, 'the callout ran');
    }

    @isTest
    static void survivesAFailingEndpoint() {
        Test.setMock(HttpCalloutMock.class, new Mock());
        Test.startTest();
        SfbridgeCallout.notify(new Set<Id>{ '500000000000001AAA' }, 'comment');
        Test.stopTest();
        System.assert(true, 'no exception escaped');
    }
}
"""


def render_bundle(*, webhook_url: str | None, named_credential: str = "sfbridge") -> ApexBundle:
    """Return the Apex files and the Named Credential instructions for one workspace.

    Raises:
        EmailError: ``named_credential`` is not a valid API name.
    """
    if not _NAME.match(named_credential):
        raise EmailError(f"{named_credential!r} is not a valid Named Credential name.")
    url = webhook_url or "<connect Salesforce first: the webhook URL appears then>"
    instructions = (
        f"1. Setup > Named Credentials > New (legacy): Label and Name '{named_credential}', "
        f"URL '{url}', Identity Type 'Anonymous', Authentication Protocol 'No Authentication', "
        "Generate Authorization Header unchecked.\n"
        "2. Setup > Apex Classes > New: paste SfbridgeCallout, then SfbridgeCalloutTest.\n"
        "3. Object Manager > Case / Case Comment / Email Message > Triggers > New: paste "
        "each trigger.\n"
        "4. Run SfbridgeCalloutTest (Setup > Apex Test Execution) before deploying to "
        "production: production orgs require 75 % coverage."
    )
    return ApexBundle(
        named_credential=named_credential,
        webhook_url=webhook_url,
        files=(
            ApexFile(name="SfbridgeCallout.cls", kind="class", body=_callout(named_credential)),
            ApexFile(name="SfbridgeCaseTrigger.trigger", kind="trigger", body=_CASE_TRIGGER),
            ApexFile(
                name="SfbridgeCaseCommentTrigger.trigger", kind="trigger", body=_COMMENT_TRIGGER
            ),
            ApexFile(
                name="SfbridgeEmailMessageTrigger.trigger", kind="trigger", body=_EMAIL_TRIGGER
            ),
            ApexFile(name="SfbridgeCalloutTest.cls", kind="class", body=_TEST),
        ),
        instructions=instructions,
    )


def render_text(bundle: ApexBundle) -> str:
    """The bundle as one printable text (``sfbridge setup apex``)."""
    parts = [f"// Named Credential\n// {line}" for line in bundle.instructions.splitlines()]
    for file in bundle.files:
        parts.append(f"// ===== {file.name} =====\n{file.body}")
    return "\n\n".join(parts)


async def apex_bundle(deps: Deps, workspace_id: str) -> ApexBundle:
    """The Apex bundle of one workspace, with its current webhook URL (API and pages).

    Raises:
        UnknownWorkspace: no such workspace.
    """
    view = await deps.connections.view(workspace_id)
    return render_bundle(webhook_url=view.webhook_url)


async def apex_setup_text(deps: Deps, workspace_id: str) -> str:
    """What ``sfbridge setup apex --workspace ID`` prints: instructions, then every file.

    Before Salesforce is connected the webhook URL is not known yet; the text says so where
    the URL would be.

    Raises:
        UnknownWorkspace: no such workspace.
    """
    return render_text(await apex_bundle(deps, workspace_id))
