"""The email-cases story in a real browser: sign in, see the demo workspace connected, mail in
over SMTP, escalate, the Case number, a rep's comment reaching the dev mailbox, diagnostics."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import DEMO_ADDRESS, Served, reload_until, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def test_sign_in_rejects_a_wrong_key_then_shows_the_demo_workspace_connected(
    page: Page, served: Served
) -> None:
    page.goto("/admin/workspaces/anything/conversations")
    expect(page.get_by_role("alert")).to_contain_text("Sign in to continue")
    sign_in(page, "sfb_000000000000_" + "x" * 43)
    expect(page.get_by_role("alert")).to_contain_text("unknown or revoked")
    shot(page, "01-sign-in-error")
    sign_in(page, served.admin_key)
    expect(page.get_by_role("heading", name="Workspaces")).to_be_visible()
    page.get_by_role("link", name="Demo workspace (sfemu)", exact=True).click()
    expect(page.locator("#connection [data-status]")).to_have_attribute("data-status", "connected")
    expect(page.get_by_role("navigation", name="Workspace")).to_be_visible()
    expect(page.get_by_text(DEMO_ADDRESS).first).to_be_visible()
    shot(page, "02-workspace-overview")


def test_mail_in_escalate_case_number_rep_comment_in_dev_mailbox(
    admin: Page, served: Served, demo_id: str
) -> None:
    page = admin
    served.send_mail(
        sender="ann.lee@customer.test",
        name="Ann Lee",
        subject="Printer on fire",
        body="Hello,\n\nmy printer is on fire. What should I do?\n\nAnn",
    )
    page.goto(f"/admin/workspaces/{demo_id}/conversations")
    row = page.get_by_role("row").filter(has_text="ann.lee@customer.test")
    reload_until(page, lambda: row.count() == 1)
    expect(row).to_contain_text("Printer on fire")
    expect(row).to_contain_text("Open")
    shot(page, "03-conversations")

    row.get_by_role("link", name="Printer on fire").click()
    expect(page.locator(".msg.contact")).to_contain_text("my printer is on fire")
    expect(page.locator(".msg.contact .kind")).to_have_text("Customer")
    page.get_by_label("Topic").fill("Printer fire")
    page.get_by_label("Summary").fill("Customer's printer is burning; send a technician.")
    shot(page, "04-conversation-before-escalate")
    page.get_by_role("button", name="Escalate").click()
    expect(page.get_by_role("status")).to_contain_text("Escalated")
    number = page.locator("[data-case-number]")
    reload_until(page, lambda: number.count() == 1)
    case_number = number.inner_text()
    assert re.fullmatch(r"\d{8}", case_number), case_number
    expect(page.locator("#conv-title .pill")).to_have_text("With a rep")
    shot(page, "05-conversation-escalated")

    cases = served.control("GET", f"/records/Case?CaseNumber={case_number}")
    assert len(cases) == 1
    case = cases[0]
    assert case["Subject"] == "Printer fire"
    assert case["Description"] == "Customer's printer is burning; send a technician."

    page.goto(f"/admin/workspaces/{demo_id}/conversations?status=handed_off")
    expect(page.get_by_role("row").filter(has_text="ann.lee@customer.test")).to_contain_text(
        case_number
    )

    # A rep (another Salesforce user) comments on the Case; the Apex-like callout tells us.
    rep = served.control(
        "POST",
        "/users",
        {"username": "rita.rep@demo.sfemu", "last_name": "Rep", "first_name": "Rita"},
    )
    served.control(
        "POST",
        "/records/CaseComment",
        {
            "ParentId": case["Id"],
            "CommentBody": "Unplug it and step away. A technician is on the way.",
            "IsPublished": True,
            "_user_id": rep["id"],
        },
    )
    page.goto(f"/admin/workspaces/{demo_id}/dev-mailbox")
    mail = page.locator("article.mail").filter(has_text="A technician is on the way")
    reload_until(page, lambda: mail.count() == 1)
    expect(page.locator(".devbox-notice")).to_contain_text("NOT SENT")
    expect(page.locator(".devbox-notice")).to_contain_text("Nobody received these messages")
    expect(mail).to_contain_text("ann.lee@customer.test")
    expect(mail.locator(".pill")).to_have_text("not sent")
    shot(page, "06-dev-mailbox")

    page.goto(f"/admin/workspaces/{demo_id}/conversations")
    page.get_by_role("link", name="Printer on fire").click()
    rep_message = page.locator(".msg.rep")
    expect(rep_message).to_contain_text("A technician is on the way")
    expect(rep_message.locator(".kind")).to_have_text("Support rep")
    shot(page, "07-conversation-with-rep-reply")


def test_diagnostics_page_lists_the_doctor_checks(admin: Page, demo_id: str) -> None:
    admin.goto(f"/admin/workspaces/{demo_id}")
    admin.get_by_role("navigation", name="Workspace").get_by_role(
        "link", name="Diagnostics"
    ).click()
    expect(admin.get_by_role("heading", name="Diagnostics")).to_be_visible()
    connection = admin.locator("tr").filter(has_text="connection").first
    expect(connection).to_contain_text("ok")
    expect(connection).to_contain_text("connected as")
    assert admin.locator("table.checks tbody tr").count() >= 5
    expect(admin.locator("tr.check-failed")).to_have_count(0)
    shot(admin, "08-diagnostics")
