"""Control-plane endpoints for the emulator and its orgs: list, create, reset, seed, sessions."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from sfemu import seeds
from sfemu.control.plane import ControlError, Handlers, json_response, need, read_body
from sfemu.runtime import OrgState


class OrgHandlers(Handlers):
    """Emulator-wide settings, orgs, seeds, and each org's sessions."""

    def summary(self, request: Request, state: OrgState) -> dict[str, Any]:
        """An org as the control plane shows it: id, name, URLs and login credentials."""
        base = str(request.base_url).rstrip("/")
        org = state.org
        return {
            "org_id": state.org_id,
            "name": getattr(org, "name", None),
            "default": state.org_id == self.emulator.default_org_id,
            "instance_url": self.emulator.public_url or base,
            "login_url": self.emulator.public_url or base,
            **state.credentials.to_dict(),
        }

    # -- emulator-wide -----------------------------------------------------------------

    async def info(self, request: Request) -> Response:
        return json_response(
            {
                "default_org_id": self.emulator.default_org_id,
                "orgs": sorted(self.emulator.orgs),
                "auto_approve": self.emulator.auto_approve,
                "persistent": self.emulator.data_path is not None,
            }
        )

    async def auto_approve(self, request: Request) -> Response:
        if request.method == "PUT":
            data = await read_body(request)
            self.emulator.auto_approve = bool(need(data, "enabled"))
        return json_response({"enabled": self.emulator.auto_approve})

    # -- orgs --------------------------------------------------------------------------

    async def list_orgs(self, request: Request) -> Response:
        return json_response([self.summary(request, s) for s in self.emulator.orgs.values()])

    async def create_org(self, request: Request) -> Response:
        data = await read_body(request)
        state = self.emulator.create_org(seed=data.get("seed"), name=data.get("name"))
        return json_response(self.summary(request, state), 201)

    async def get_org(self, request: Request) -> Response:
        return json_response(self.summary(request, self.state(request)))

    async def reset_org(self, request: Request) -> Response:
        data = await read_body(request)
        state = self.emulator.reset_org(self.state(request).org_id, seed=data.get("seed"))
        return json_response(self.summary(request, state))

    async def seed(self, request: Request) -> Response:
        data = await read_body(request)
        state = self.state(request)
        try:
            seeds.apply_seed(state.org, str(need(data, "name")))
        except ValueError as exc:
            raise ControlError(400, str(exc)) from exc
        return json_response({"seed": data["name"]}, 201)

    # -- sessions ----------------------------------------------------------------------

    async def expire_tokens(self, request: Request) -> Response:
        count = self.emulator.tokens.expire_all(self.state(request).org_id)
        return json_response({"expired": count})

    async def revoke_refresh_tokens(self, request: Request) -> Response:
        count = self.emulator.tokens.revoke_refresh_tokens(self.state(request).org_id)
        return json_response({"revoked": count})

    async def session_timeout(self, request: Request) -> Response:
        state = self.state(request)
        if request.method == "PUT":
            data = await read_body(request)
            seconds = int(need(data, "seconds"))
            if seconds <= 0:
                raise ControlError(400, "seconds must be > 0")
            state.org.session_timeout_seconds = seconds
        return json_response({"seconds": state.org.session_timeout_seconds})

    async def search_lag(self, request: Request) -> Response:
        state = self.state(request)
        if request.method == "PUT":
            data = await read_body(request)
            seconds = float(need(data, "seconds"))
            if seconds < 0:
                raise ControlError(400, "seconds must be >= 0")
            state.org.search_lag_seconds = seconds
        return json_response({"seconds": state.org.search_lag_seconds})
