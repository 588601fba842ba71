"""The control plane's route table: every ``/_emulator/`` path, its endpoint and methods."""

from __future__ import annotations

from starlette.routing import BaseRoute, Route

from sfemu.control.callouts import CalloutHandlers
from sfemu.control.orgs import OrgHandlers
from sfemu.control.plane import PREFIX, Endpoint, guarded
from sfemu.control.records import RecordHandlers
from sfemu.control.setup import SetupHandlers
from sfemu.control.traffic import TrafficHandlers
from sfemu.runtime import Emulator


def control_routes(emulator: Emulator) -> list[BaseRoute]:
    """The control plane's routes (mounted only when the control plane is on).

    Args:
        emulator: the state every route reads and changes.

    Returns:
        Starlette routes, each behind the ``X-Emulator-Key`` check.
    """
    orgs = OrgHandlers(emulator)
    setup = SetupHandlers(emulator)
    callouts = CalloutHandlers(emulator)
    traffic = TrafficHandlers(emulator)
    records = RecordHandlers(emulator)
    org = PREFIX + "/orgs/{org}"
    # (path, endpoint, methods, mutates: a successful answer marks the emulator to be saved)
    table: list[tuple[str, Endpoint, list[str], bool]] = [
        (PREFIX, orgs.info, ["GET"], False),
        (PREFIX + "/auto-approve", orgs.auto_approve, ["GET", "PUT"], True),
        (PREFIX + "/orgs", orgs.list_orgs, ["GET"], False),
        (PREFIX + "/orgs", orgs.create_org, ["POST"], True),
        (org, orgs.get_org, ["GET"], False),
        (org + "/reset", orgs.reset_org, ["POST"], True),
        (org + "/seed", orgs.seed, ["POST"], True),
        (org + "/fields", setup.add_field, ["POST"], True),
        (org + "/fields/{object}/{field}", setup.remove_field, ["DELETE"], True),
        (org + "/field-visibility", setup.field_visibility, ["POST"], True),
        (org + "/users", setup.users, ["GET", "POST"], True),
        (org + "/users/{user}/permissions", setup.grant, ["POST"], True),
        (org + "/apps", setup.apps, ["GET", "POST"], True),
        (org + "/callouts", callouts.callouts, ["GET", "POST", "DELETE"], True),
        (org + "/callouts/log", callouts.callout_log, ["GET", "DELETE"], False),
        (org + "/callouts/{rule}", callouts.callout, ["DELETE"], True),
        (org + "/faults", traffic.faults, ["GET", "POST", "DELETE"], False),
        (org + "/faults/{rule}", traffic.fault, ["DELETE"], False),
        (org + "/latency", traffic.latency, ["GET", "PUT"], True),
        (org + "/limits", traffic.limits, ["GET", "PUT"], True),
        (org + "/counters", traffic.counters, ["GET", "DELETE"], False),
        (org + "/expire-tokens", orgs.expire_tokens, ["POST"], True),
        (org + "/revoke-refresh-tokens", orgs.revoke_refresh_tokens, ["POST"], True),
        (org + "/session-timeout", orgs.session_timeout, ["GET", "PUT"], True),
        (org + "/search-lag", orgs.search_lag, ["GET", "PUT"], True),
        (org + "/records/{object}", records.records, ["GET", "POST"], True),
        (org + "/records/{object}/{id}", records.record, ["GET", "PATCH", "DELETE"], True),
    ]
    return [
        Route(path, guarded(emulator, handler, mutates=mutates), methods=methods)
        for path, handler, methods, mutates in table
    ]
