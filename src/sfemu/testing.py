"""Test helpers: a real sfemu server on a free loopback port, with a ready access token.

Use it from any test suite (no network, no org)::

    from sfemu.testing import emulated_salesforce

    @pytest.fixture
    def salesforce() -> Iterator[EmulatedSalesforce]:
        with emulated_salesforce(tls=True) as sf:
            yield sf

    def test_something(salesforce):
        httpx.get(f"{salesforce.url}/services/data/v59.0/limits", headers=salesforce.headers)
        salesforce.control("PUT", "/latency", {"fixed_ms": 50})
"""

from __future__ import annotations

import contextlib
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from sfemu import tls as tls_module
from sfemu.runtime import Credentials, Emulator, OrgState
from sfemu.server import RunningServer, serve_in_thread

API_VERSION = "59.0"


@dataclass(frozen=True, slots=True, kw_only=True)
class EmulatedSalesforce:
    """A running emulator and a logged-in session on its default org."""

    server: RunningServer
    emulator: Emulator
    access_token: str
    refresh_token: str | None
    credentials: Credentials
    ca_path: Path | None

    @property
    def url(self) -> str:
        """The instance URL (``http(s)://127.0.0.1:PORT``)."""
        return self.server.url

    @property
    def org_id(self) -> str:
        return self.state.org_id

    @property
    def state(self) -> OrgState:
        return self.emulator.default_state

    @property
    def headers(self) -> dict[str, str]:
        """REST API headers with the bearer token."""
        return {"Authorization": f"Bearer {self.access_token}"}

    @property
    def api(self) -> str:
        """``{url}/services/data/v59.0``."""
        return f"{self.url}/services/data/v{API_VERSION}"

    @property
    def verify(self) -> ssl.SSLContext | bool:
        """What to pass as ``verify=`` to httpx: a context trusting the emulator's CA."""
        if self.ca_path is None:
            return True
        return ssl.create_default_context(cafile=str(self.ca_path))

    def client(self, **kwargs: Any) -> httpx.Client:
        """An httpx client for the instance, bearer token set, CA trusted."""
        return httpx.Client(base_url=self.url, headers=self.headers, verify=self.verify, **kwargs)

    def control(
        self, method: str, path: str, body: Any = None, *, org_id: str | None = None
    ) -> Any:
        """Call the control plane for an org (default: the default org) and return its JSON.

        Args:
            method: HTTP method.
            path: route under ``/_emulator/orgs/{org}`` (e.g. ``/faults``), or an absolute
                ``/_emulator/...`` path.
            body: JSON body.
            org_id: the org (default: the default org).

        Raises:
            httpx.HTTPStatusError: on a 4xx/5xx answer.
        """
        full = (
            path
            if path.startswith("/_emulator")
            else (f"/_emulator/orgs/{org_id or self.org_id}{path}")
        )
        response = httpx.request(
            method,
            f"{self.url}{full}",
            json=body,
            headers={"X-Emulator-Key": self.emulator.control_key},
            verify=self.verify,
        )
        response.raise_for_status()
        return response.json() if response.content else None

    def new_token(self, *, user_id: str | None = None) -> str:
        """A fresh access token for the admin (or another user) of the default org."""
        issued = self.emulator.tokens.issue(
            org_id=self.org_id,
            user_id=user_id or self.credentials.user_id,
            client_id=self.credentials.client_id,
            scopes=("api", "refresh_token"),
        )
        return issued.access_token


@contextlib.contextmanager
def emulated_salesforce(
    *,
    tls: bool = False,
    seed: str | None = None,
    emulator: Emulator | None = None,
    auto_approve: bool = True,
) -> Iterator[EmulatedSalesforce]:
    """Run sfemu on a free loopback port for the duration of the block.

    Args:
        tls: serve HTTPS with a throw-away CA (``ca_path`` is then set).
        seed: seed the default org (e.g. ``"demo"``).
        emulator: serve this emulator instead of a fresh one.
        auto_approve: OAuth authorize requests are approved without a login page.

    Yields:
        The running emulator with an access token for the default org's admin.
    """
    emu = emulator or Emulator.with_default_org(seed=seed)
    emu.auto_approve = auto_approve
    with contextlib.ExitStack() as stack:
        files = None
        if tls:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="sfemu-")))
            files = tls_module.generate(directory)
        server = serve_in_thread(emu, tls=files)
        stack.callback(server.stop)
        state = emu.default_state
        issued = emu.tokens.issue(
            org_id=state.org_id,
            user_id=state.credentials.user_id,
            client_id=state.credentials.client_id,
            scopes=("api", "refresh_token"),
            with_refresh_token=True,
        )
        yield EmulatedSalesforce(
            server=server,
            emulator=emu,
            access_token=issued.access_token,
            refresh_token=issued.refresh_token,
            credentials=state.credentials,
            ca_path=files.ca_path if files else None,
        )
