"""The setup and operations pages in a real browser: addresses, email settings, Apex (copy
buttons), failed jobs with Replay, an agent reply, workspace keys, labels on every control."""

from __future__ import annotations

import json
import re
import urllib.request
import uuid

import psycopg
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import Served, reload_until, shot, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.timeout(180)]


def api(served: Served, path: str) -> object:
    request = urllib.request.Request(
        served.base + path, headers={"Authorization": f"Bearer {served.admin_key}"}
    )
    with urllib.request.urlopen(request, timeout=10) as resp:
        return json.loads(resp.read())


def test_mail_addresses_add_refuse_duplicate_and_remove(admin: Page, demo_id: str) -> None:
    admin.goto(f"/admin/workspaces/{demo_id}/mail-addresses")
    table = admin.locator("table").first
    expect(table.get_by_role("row").nth(1)).to_contain_text("support address")
    admin.get_by_label("Add an address").fill("Billing@Demo.sfbridge.localhost")
    admin.get_by_role("button", name="Add address").click()
    expect(admin.get_by_role("status")).to_contain_text("billing@demo.sfbridge.localhost")
    expect(table).to_contain_text("billing@demo.sfbridge.localhost")
    admin.get_by_label("Add an address").fill("billing@demo.sfbridge.localhost")
    admin.get_by_role("button", name="Add address").click()
    expect(admin.get_by_role("alert")).to_contain_text("already routes mail")
    shot(admin, "10-mail-addresses")
    admin.get_by_role("button", name="Remove billing@demo.sfbridge.localhost").click()
    expect(admin.get_by_role("status")).to_contain_text("no longer comes here")
    expect(table).not_to_contain_text("billing@")


def test_email_settings_show_mistakes_keep_what_was_typed_and_save(
    admin: Page, served: Served, demo_id: str
) -> None:
    admin.goto(f"/admin/workspaces/{demo_id}/email-settings")
    expect(admin.get_by_label("Handoff phrases")).to_contain_text("talk to a human")
    admin.get_by_label("Use office hours").check()
    admin.get_by_label("Time zone").fill("Europe/Paris")
    admin.get_by_label("Monday").fill("9am-5pm")
    admin.get_by_label("Tuesday").fill("09:00-12:00, 13:00-17:30")
    admin.get_by_label("Marker field").fill("not a field!")
    admin.get_by_label("Handoff keywords").fill("refund\nlawyer")
    admin.get_by_role("button", name="Save settings").click()
    problems = admin.locator("#problems")
    expect(problems).to_contain_text("Not saved")
    expect(problems).to_contain_text(
        "Marker field: 'not a field!' is not a Salesforce field API name"
    )
    expect(problems).to_contain_text("Office hours, Monday: '9am-5pm' is not a span")
    expect(admin.get_by_label("Tuesday")).to_have_value("09:00-12:00, 13:00-17:30")
    expect(admin.get_by_label("Monday")).to_have_attribute("aria-invalid", "true")
    expect(admin.get_by_label("Marker field")).to_have_attribute("aria-invalid", "true")
    expect(admin.get_by_label("Tuesday")).not_to_have_attribute("aria-invalid", "true")
    expect(admin.get_by_label("Handoff keywords")).to_have_value("refund\nlawyer")
    shot(admin, "11-email-settings-errors")

    admin.get_by_label("Monday").fill("9-17")
    admin.get_by_label("Marker field").fill("")
    admin.get_by_role("button", name="Save settings").click()
    expect(admin.get_by_role("status")).to_contain_text("Email settings saved")
    expect(admin.get_by_label("Monday")).to_have_value("09:00-17:00")
    expect(admin.get_by_label("Use office hours")).to_be_checked()
    saved = api(served, f"/api/v1/workspaces/{demo_id}/email-settings")
    assert isinstance(saved, dict)
    assert saved["office_hours"]["tz"] == "Europe/Paris"
    assert saved["office_hours"]["weekly"] == {
        "0": [["09:00", "17:00"]],
        "1": [["09:00", "12:00"], ["13:00", "17:30"]],
    }
    assert saved["handoff_keywords"] == ["refund", "lawyer"]
    assert saved["marker_field"] is None
    # Back to the defaults so the other tests hand off at any hour.
    admin.get_by_label("Use office hours").uncheck()
    admin.get_by_label("Marker field").fill("Case_From__c")
    admin.get_by_label("Handoff keywords").fill("")
    admin.get_by_role("button", name="Save settings").click()
    expect(admin.get_by_role("status")).to_contain_text("Email settings saved")
    shot(admin, "12-email-settings")


def test_apex_page_shows_the_files_and_copies_them(admin: Page, demo_id: str) -> None:
    admin.goto(f"/admin/workspaces/{demo_id}/apex")
    expect(admin.locator("#nc-url")).to_contain_text("/hooks/salesforce/")
    files = admin.locator("section.code-file")
    expect(files).to_have_count(5)
    expect(files.first).to_contain_text("SfbridgeCallout.cls")
    expect(files.first.locator("pre")).to_contain_text("callout:sfbridge")
    button = admin.get_by_role("button", name="Copy SfbridgeCaseTrigger.trigger")
    button.click()
    expect(button).to_have_text("Copied")
    copied = admin.evaluate("navigator.clipboard.readText()")
    assert "\ntrigger SfbridgeCaseTrigger on Case" in copied
    shot(admin, "13-apex")


def test_failed_job_is_listed_and_replay_runs_it(admin: Page, served: Served, demo_id: str) -> None:
    gone = str(uuid.uuid4())  # a handoff for a session that no longer exists: a no-op when run
    with psycopg.connect(served.database_url(), autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO procrastinate_jobs (queue_name, task_name, args, status, attempts) "
            "VALUES ('urgent', 'sfbridge:handoff', %s, 'failed', 10) RETURNING id",
            (json.dumps({"workspace_id": demo_id, "session_id": gone, "attempt": 0}),),
        ).fetchone()
        assert row is not None
        job_id = int(row[0])
        conn.execute(
            "INSERT INTO job_errors (job_id, workspace_id, task_name, attempt, error_type, "
            "message) VALUES (%s, %s, 'sfbridge:handoff', 10, 'ServerUnavailable', "
            "'Salesforce answered 503 SERVER_UNAVAILABLE')",
            (job_id, demo_id),
        )
    admin.goto(f"/admin/workspaces/{demo_id}/jobs")
    row_el = admin.get_by_role("row").filter(has_text=f"#{job_id}")
    expect(row_el).to_contain_text("Create the Case")
    expect(row_el).to_contain_text("sfbridge:handoff")
    expect(row_el).to_contain_text("503 SERVER_UNAVAILABLE")
    shot(admin, "14-failed-jobs")
    admin.get_by_role("button", name=f"Replay job {job_id}").click()
    expect(admin.get_by_role("status")).to_contain_text(f"Job {job_id} is queued again")
    expect(admin.get_by_role("row").filter(has_text=f"#{job_id}")).to_have_count(0)
    with psycopg.connect(served.database_url(), autocommit=True) as conn:

        def done() -> bool:
            found = conn.execute(
                "SELECT status::text FROM procrastinate_jobs WHERE id = %s", (job_id,)
            ).fetchone()
            return found is not None and found[0] == "succeeded"

        reload_until(admin, done)


def test_agent_reply_from_the_page_reaches_the_dev_mailbox(
    admin: Page, served: Served, demo_id: str
) -> None:
    served.send_mail(sender="bo@shop.test", subject="Where is my parcel?", body="Order 1234.")
    admin.goto(f"/admin/workspaces/{demo_id}/conversations?contact=bo@shop.test")
    link = admin.get_by_role("link", name="Where is my parcel?")
    reload_until(admin, lambda: link.count() == 1)
    link.click()
    admin.get_by_role("button", name="Send reply").click()  # empty: the browser refuses
    expect(admin.get_by_label("Message to bo@shop.test")).to_have_js_property(
        "validity.valueMissing", True
    )
    admin.get_by_label("Message to bo@shop.test").fill("It left our warehouse today.")
    admin.get_by_label("Signed as").fill("Shop assistant")
    admin.get_by_role("button", name="Send reply").click()
    expect(admin.get_by_role("status")).to_contain_text("Reply queued")
    agent = admin.locator(".msg.agent")
    expect(agent).to_contain_text("It left our warehouse today.")
    expect(agent.locator(".kind")).to_have_text("AI agent")
    admin.goto(f"/admin/workspaces/{demo_id}/dev-mailbox")
    kept = admin.locator("article.mail").filter(has_text="It left our warehouse today.")
    reload_until(admin, lambda: kept.count() == 1)
    expect(kept).to_contain_text("bo@shop.test")
    expect(kept.locator("h3")).to_have_text(re.compile(r"Where is my parcel\?"))


def test_workspace_key_sees_only_its_workspace(
    admin: Page, context: BrowserContext, served: Served, demo_id: str
) -> None:
    admin.get_by_label("Name").fill("Acme support")
    admin.get_by_role("button", name="Create workspace").click()
    key = admin.locator("#api-key").inner_text()
    shot(admin, "15-key-created")
    other = context.browser
    assert other is not None
    fresh = other.new_context(base_url=served.base)
    try:
        page = fresh.new_page()
        sign_in(page, key)
        expect(page.get_by_role("heading", level=1)).to_have_text("Acme support")
        expect(page.get_by_role("link", name="Workspaces")).to_have_count(0)
        page.get_by_role("link", name="Mail addresses").click()
        expect(page.get_by_role("cell", name="No address yet")).to_be_visible()
        for path in ("", "/conversations", "/dev-mailbox", "/diagnostics"):
            page.goto(f"/admin/workspaces/{demo_id}{path}")
            expect(page.get_by_role("alert")).to_contain_text("does not exist")
            expect(page.get_by_text("Demo workspace (sfemu)")).to_have_count(0)
    finally:
        fresh.close()


@pytest.mark.parametrize(
    "path",
    [
        "",
        "/conversations",
        "/dev-mailbox",
        "/mail-addresses",
        "/email-settings",
        "/apex",
        "/jobs",
        "/diagnostics",
    ],
)
def test_every_control_has_a_label_and_the_current_tab_is_marked(
    admin: Page, demo_id: str, path: str
) -> None:
    admin.goto(f"/admin/workspaces/{demo_id}{path}")
    unlabeled = admin.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
             .filter(el => !(el.labels && el.labels.length) && !el.getAttribute('aria-label')
                           && !(el.textContent || '').trim())
             .map(el => el.outerHTML)"""
    )
    assert unlabeled == []
    current = admin.locator("nav.tabs a[aria-current=page]")
    expect(current).to_have_count(1)
    assert current.get_attribute("href") == f"/admin/workspaces/{demo_id}{path}"
    assert admin.title().endswith("· sfbridge")


@pytest.mark.parametrize("path", ["", "/conversations", "/email-settings", "/apex", "/jobs"])
def test_pages_fit_a_phone_screen(admin: Page, demo_id: str, path: str) -> None:
    admin.set_viewport_size({"width": 390, "height": 844})
    admin.goto(f"/admin/workspaces/{demo_id}{path}")
    # What sticks out: elements whose content is wider than they are and does not scroll.
    measured = admin.evaluate(
        """() => ({
            overflow: document.documentElement.scrollWidth - window.innerWidth,
            wide: [...document.querySelectorAll('body *')]
              .filter(el => el.scrollWidth > el.clientWidth + 1 && getComputedStyle(el).overflowX === 'visible')
              .map(el => el.tagName + '.' + el.className + ' ' + el.scrollWidth + '/' + el.clientWidth)
              .slice(0, 8),
        })"""
    )
    shot(admin, f"20-phone{path.replace('/', '-') or '-overview'}")
    assert measured["overflow"] <= 0, measured["wide"]
