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

from sfbridge.core import apex as core_apex
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


def render_bundle(*, webhook_url: str | None, named_credential: str = "sfbridge") -> ApexBundle:
    """Return the Apex files and the Named Credential instructions for one workspace.

    Raises:
        EmailError: ``named_credential`` is not a valid API name.
    """
    if not _NAME.match(named_credential):
        raise EmailError(f"{named_credential!r} is not a valid Named Credential name.")
    code = core_apex.render_apex(named_credential)
    url = webhook_url or "<connect Salesforce first: the webhook URL appears then>"
    instructions = (
        f"1. Setup > Named Credentials > New (legacy): Label and Name '{named_credential}', "
        f"URL '{url}', Identity Type 'Anonymous', Authentication Protocol 'No Authentication', "
        "Generate Authorization Header unchecked.\n"
        f"2. Setup > Apex Classes > New: paste {core_apex.CLASS_NAME}, then {core_apex.TEST_CLASS_NAME}.\n"
        "3. Object Manager > Case / Case Comment / Email Message > Triggers > New: paste "
        "each trigger.\n"
        "4. Run SfbridgeCalloutTest (Setup > Apex Test Execution) before deploying to "
        "production: production orgs require 75 % coverage."
    )
    return ApexBundle(
        named_credential=named_credential,
        webhook_url=webhook_url,
        files=(
            ApexFile(name=f"{core_apex.CLASS_NAME}.cls", kind="class", body=code.callout_class),
            ApexFile(
                name=f"{core_apex.CASE_TRIGGER_NAME}.trigger",
                kind="trigger",
                body=code.case_trigger,
            ),
            ApexFile(
                name=f"{core_apex.CASECOMMENT_TRIGGER_NAME}.trigger",
                kind="trigger",
                body=code.casecomment_trigger,
            ),
            ApexFile(
                name=f"{core_apex.EMAILMESSAGE_TRIGGER_NAME}.trigger",
                kind="trigger",
                body=code.emailmessage_trigger,
            ),
            ApexFile(name=f"{core_apex.TEST_CLASS_NAME}.cls", kind="class", body=code.test_class),
        ),
        instructions=instructions,
    )


def render_text(bundle: ApexBundle) -> str:
    """The bundle as one printable text (``sfbridge setup apex``)."""
    steps = "\n".join(f"// {line}" for line in bundle.instructions.splitlines())
    parts = [f"// ===== Setup steps =====\n{steps}"]
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
