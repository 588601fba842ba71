"""sfemu: a faithful local Salesforce org (OAuth, REST, SOQL, SOSL, composite, limits, faults).

Start one in a test::

    from sfemu import emulated_salesforce

    with emulated_salesforce(tls=True) as sf:
        ...  # sf.url, sf.access_token, sf.control("PUT", "/latency", {"fixed_ms": 50})

or in-process without a socket: ``httpx.AsyncClient(transport=httpx.ASGITransport(
app=create_app(Emulator.with_default_org())))``. From a shell: ``python -m sfemu``.
"""

from sfemu.app import create_app
from sfemu.model import ApiError
from sfemu.org import Org
from sfemu.runtime import Credentials, Emulator, OrgState
from sfemu.server import RunningServer, serve_in_thread
from sfemu.testing import EmulatedSalesforce, emulated_salesforce

__all__ = [
    "ApiError",
    "Credentials",
    "EmulatedSalesforce",
    "Emulator",
    "Org",
    "OrgState",
    "RunningServer",
    "create_app",
    "emulated_salesforce",
    "serve_in_thread",
]
