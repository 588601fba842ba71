"""Demo mode: when no real Salesforce org is connected, run sfemu and connect a demo workspace.

The emulator's state is kept in the data directory (``sfemu.json``), so the demo org, its
records and the demo workspace's tokens survive restarts. The demo workspace connects through
the real OAuth web-server flow, with the emulator's auto-approve switch standing in for the
admin's click.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from sfbridge.deps import DemoOrg, Deps
from sfbridge.errors import BridgeError
from sfbridge.services.email import sessions as email_sessions
from sfbridge.services.email.errors import AddressTaken
from sfbridge.settings import DemoMode, Settings
from sfbridge.store import workspaces
from sfbridge.store.connections import ConnectionStatus
from sfbridge.store.db import Database
from sfemu.runtime import Emulator
from sfemu.server import RunningServer, serve_in_thread

logger = logging.getLogger(__name__)

DEMO_WORKSPACE_NAME = "Demo workspace (sfemu)"


class DemoError(BridgeError):
    """The demo org could not be set up."""


@dataclass(frozen=True, slots=True)
class DemoRuntime:
    server: RunningServer
    org: DemoOrg


async def wanted(settings: Settings, db: Database) -> bool:
    """Whether to start the demo: always with ``on``, never with ``off``, else when no
    workspace has a real (non-demo) Salesforce connection."""
    if settings.demo is DemoMode.ON:
        return True
    if settings.demo is DemoMode.OFF:
        return False
    async with db.transaction() as tx:
        real = await tx.fetch_value("connection_count_real")
    return not real


def start_emulator(data_dir: Path, *, port: int = 0) -> DemoRuntime:
    """Start sfemu in a background thread, state persisted under ``data_dir``."""
    path = data_dir / "sfemu.json"
    emulator = Emulator.load(path) if path.exists() else Emulator(data_path=path)
    if emulator.default_org_id is None:
        emulator.create_org(seed="demo", default=True, name="sfbridge demo org")
    emulator.data_path = path
    emulator.auto_approve = True
    server = serve_in_thread(emulator, "127.0.0.1", port)
    creds = emulator.default_state.credentials
    org = DemoOrg(
        instance_url=server.url,
        control_url=f"{server.url}/_emulator",
        control_key=emulator.control_key,
        username=creds.username,
        password=creds.password,
    )
    return DemoRuntime(server=server, org=org)


async def ensure_demo_workspace(deps: Deps, runtime: DemoRuntime) -> str:
    """Create the demo workspace if needed and connect it to the emulator; return its id."""
    emulator = runtime.server.emulator
    creds = emulator.default_state.credentials
    app = emulator.default_state.org.apps[creds.client_id]
    redirect = deps.connections.redirect_uri
    if redirect not in app.callback_urls:
        emulator.default_state.org.apps[creds.client_id] = dataclasses.replace(
            app, callback_urls=(*app.callback_urls, redirect)
        )
    async with deps.db.transaction() as tx:
        ws = await workspaces.find_demo(tx)
        if ws is None:
            ws = await workspaces.create(tx, name=DEMO_WORKSPACE_NAME, is_demo=True)
    view = await deps.connections.view(ws.id)
    if view.status != ConnectionStatus.CONNECTED or view.instance_url != runtime.server.url:
        await deps.connections.save_credentials(
            ws.id,
            login_url=runtime.server.url,
            client_id=creds.client_id,
            client_secret=creds.client_secret,
        )
        await connect_with_auto_approve(deps, ws.id)
        view = await deps.connections.view(ws.id)
    if view.webhook_url:
        install_callouts(emulator, view.webhook_url)
    with contextlib.suppress(AddressTaken):
        await email_sessions.add_address(deps.db, ws.id, DEMO_ADDRESS)
    return ws.id


#: The demo workspace's support address (send mail to it on the SMTP listener).
DEMO_ADDRESS = "support@demo.sfbridge.localhost"

#: What the generated Apex does in a real org (setup-email-cases.md), as emulator rules.
DEMO_CALLOUTS: tuple[dict[str, Any], ...] = (
    {"object": "CaseComment", "event": "insert", "event_param": "comment_created"},
    {
        "object": "EmailMessage",
        "event": "insert",
        "event_param": "email_sent",
        "filter": "Incoming = false",
    },
    {"object": "Case", "event": "change", "field": "Status", "event_param": "case_status"},
)


def install_callouts(emulator: Emulator, webhook_url: str) -> None:
    """Point the demo org's Apex-like callouts at the workspace's current webhook URL."""
    book = emulator.default_state.callouts
    book.rules.clear()
    for rule in DEMO_CALLOUTS:
        book.add({**rule, "url": webhook_url})
    emulator.mark_dirty()


async def connect_with_auto_approve(deps: Deps, workspace_id: str) -> None:
    """Run the OAuth web-server flow against an emulator that approves by itself."""
    authorize = await deps.connections.start_connect(workspace_id)
    async with httpx.AsyncClient(follow_redirects=False, timeout=10) as http:
        resp = await http.get(authorize)
    location = resp.headers.get("location", "")
    params = parse_qs(urlsplit(location).query)
    if resp.status_code not in (302, 303) or "code" not in params:
        raise DemoError(f"the emulator did not approve the demo connection ({resp.status_code})")
    await deps.connections.finish_connect(state=params["state"][0], code=params["code"][0])
