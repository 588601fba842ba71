"""The control plane under ``/_emulator/``: JSON routes a test or a demo drives sfemu with.

Every route needs the header ``X-Emulator-Key`` (printed at start); Salesforce access tokens
are never accepted here. ``{org}`` is an org id (15 or 18 characters) or ``default``.
docs/emulator.md lists every route with its body.

Modules, one noun each: :mod:`~sfemu.control.plane` (key check, error answers, JSON body
helpers), :mod:`~sfemu.control.orgs` (orgs, seeds, sessions), :mod:`~sfemu.control.setup`
(custom fields, users, connected apps), :mod:`~sfemu.control.traffic` (faults, latency,
limits, counters), :mod:`~sfemu.control.callouts`, :mod:`~sfemu.control.records`, and
:mod:`~sfemu.control.routes`, the one route table.
"""

from sfemu.control.routes import control_routes

__all__ = ["control_routes"]
