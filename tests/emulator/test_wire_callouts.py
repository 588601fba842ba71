"""Apex-like callouts: after-commit, asynchronous, empty-body POSTs to a real loopback receiver."""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from sfemu.testing import EmulatedSalesforce


@dataclass
class Received:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.requests)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver(url="")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            time.sleep(state.delay)
            parts = urlsplit(self.path)
            state.requests.append(
                Received("POST", parts.path, parse_qs(parts.query), dict(self.headers), body)
            )
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/salesforce"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


def _log(sf: EmulatedSalesforce, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    entries: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        entries = sf.control("GET", "/callouts/log")
        if len(entries) >= count:
            break
        time.sleep(0.02)
    return entries


def test_case_insert_calls_out_with_an_empty_json_post(
    sf: EmulatedSalesforce, receiver: Receiver
) -> None:
    rule = sf.control(
        "POST",
        "/callouts",
        {
            "object": "Case",
            "event": "insert",
            "url": receiver.url,
            "event_param": "created",
            "params": {"org": "acme"},
        },
    )
    assert rule["id"]
    case_id = httpx.post(
        f"{sf.api}/sobjects/Case/", json={"Subject": "x"}, headers=sf.headers
    ).json()["id"]
    [got] = receiver.wait_for(1)
    assert got.path == "/hooks/salesforce"
    assert got.query == {"caseId": [case_id], "event": ["created"], "org": ["acme"]}
    assert got.headers["Content-Type"] == "application/json"
    assert got.body == b""
    [entry] = _log(sf, 1)
    assert entry["status"] == "sent" and entry["response_code"] == 200 and entry["error"] is None
    assert entry["record_id"] == case_id


def test_comment_and_email_carry_the_parent_case(
    sf: EmulatedSalesforce, receiver: Receiver
) -> None:
    sf.control(
        "POST", "/callouts", {"object": "CaseComment", "event": "insert", "url": receiver.url}
    )
    sf.control(
        "POST",
        "/callouts",
        {
            "object": "EmailMessage",
            "event": "insert",
            "url": receiver.url,
            "filter": "Incoming = false",
        },
    )
    case_id = httpx.post(
        f"{sf.api}/sobjects/Case/", json={"Subject": "x"}, headers=sf.headers
    ).json()["id"]
    httpx.post(
        f"{sf.api}/sobjects/CaseComment/",
        json={"ParentId": case_id, "CommentBody": "hi"},
        headers=sf.headers,
    )
    httpx.post(
        f"{sf.api}/sobjects/EmailMessage/",
        json={"ParentId": case_id, "Incoming": True, "Subject": "in"},
        headers=sf.headers,
    )
    httpx.post(
        f"{sf.api}/sobjects/EmailMessage/",
        json={"ParentId": case_id, "Incoming": False, "Subject": "out"},
        headers=sf.headers,
    )
    got = receiver.wait_for(2)
    time.sleep(0.2)
    assert len(receiver.requests) == 2
    assert [r.query["caseId"] for r in got] == [[case_id], [case_id]]


def test_field_change_event(sf: EmulatedSalesforce, receiver: Receiver) -> None:
    sf.control(
        "POST",
        "/callouts",
        {"object": "Case", "event": "change", "field": "Status", "url": receiver.url},
    )
    case_id = httpx.post(
        f"{sf.api}/sobjects/Case/", json={"Subject": "x"}, headers=sf.headers
    ).json()["id"]
    httpx.patch(f"{sf.api}/sobjects/Case/{case_id}", json={"Subject": "y"}, headers=sf.headers)
    httpx.patch(f"{sf.api}/sobjects/Case/{case_id}", json={"Status": "Closed"}, headers=sf.headers)
    receiver.wait_for(1)
    time.sleep(0.2)
    assert len(receiver.requests) == 1


def test_callout_is_sent_after_the_response(sf: EmulatedSalesforce, receiver: Receiver) -> None:
    receiver.delay = 1.0
    sf.control("POST", "/callouts", {"object": "Case", "event": "insert", "url": receiver.url})
    started = time.perf_counter()
    created = httpx.post(f"{sf.api}/sobjects/Case/", json={"Subject": "x"}, headers=sf.headers)
    assert created.status_code == 201
    assert time.perf_counter() - started < 0.8
    assert receiver.wait_for(1)


def test_rolled_back_writes_do_not_call_out(sf: EmulatedSalesforce, receiver: Receiver) -> None:
    sf.control("POST", "/callouts", {"object": "Account", "event": "insert", "url": receiver.url})
    records = [
        {"attributes": {"type": "Account"}, "Name": "ok"},
        {"attributes": {"type": "Account"}},
    ]
    httpx.post(
        f"{sf.api}/composite/sobjects",
        json={"allOrNone": True, "records": records},
        headers=sf.headers,
    )
    httpx.post(f"{sf.api}/sobjects/Account/", json={"Name": "committed"}, headers=sf.headers)
    got = receiver.wait_for(1)
    time.sleep(0.2)
    assert len(receiver.requests) == 1
    assert len(got) == 1


def test_failures_are_logged_and_not_retried(sf: EmulatedSalesforce, receiver: Receiver) -> None:
    receiver.status = 500
    sf.control("POST", "/callouts", {"object": "Case", "event": "insert", "url": receiver.url})
    sf.control(
        "POST",
        "/callouts",
        {"object": "Case", "event": "insert", "url": "http://127.0.0.1:9/closed"},
    )
    httpx.post(f"{sf.api}/sobjects/Case/", json={"Subject": "x"}, headers=sf.headers)
    entries = _log(sf, 2)
    by_url = {e["url"].split("?")[0]: e for e in entries}
    assert by_url[receiver.url]["status"] == "failed"
    assert by_url[receiver.url]["response_code"] == 500
    refused = by_url["http://127.0.0.1:9/closed"]
    assert refused["status"] == "failed" and refused["response_code"] is None and refused["error"]
    time.sleep(0.3)
    assert len(receiver.requests) == 1


def test_control_plane_writes_also_call_out(sf: EmulatedSalesforce, receiver: Receiver) -> None:
    sf.control("POST", "/callouts", {"object": "Case", "event": "insert", "url": receiver.url})
    created = sf.control("POST", "/records/Case", {"Subject": "direct"})
    [got] = receiver.wait_for(1)
    assert got.query["caseId"] == [created["id"]]


def test_rules_list_and_remove(sf: EmulatedSalesforce, receiver: Receiver) -> None:
    rule = sf.control("POST", "/callouts", {"object": "Case", "url": receiver.url})
    assert [r["id"] for r in sf.control("GET", "/callouts")] == [rule["id"]]
    sf.control("DELETE", f"/callouts/{rule['id']}")
    assert sf.control("GET", "/callouts") == []
    with pytest.raises(httpx.HTTPStatusError):
        sf.control("POST", "/callouts", {"object": "Case", "url": "not a url"})
