"""Fixtures for the wire and fidelity tests: sfemu served by uvicorn on a free loopback port."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sfemu.testing import EmulatedSalesforce, emulated_salesforce


@pytest.fixture
def sf() -> Iterator[EmulatedSalesforce]:
    """sfemu over plain HTTP with a fresh default org and an admin access token."""
    with emulated_salesforce() as running:
        yield running


@pytest.fixture
def sf_tls() -> Iterator[EmulatedSalesforce]:
    """sfemu over HTTPS (a throw-away CA; ``ca_path`` is the file to trust)."""
    with emulated_salesforce(tls=True) as running:
        yield running


@pytest.fixture
def api(sf: EmulatedSalesforce) -> Iterator[httpx.Client]:
    """An httpx client on the REST API root (``/services/data/v59.0``), bearer token set."""
    with httpx.Client(base_url=sf.api, headers=sf.headers, timeout=10) as client:
        yield client
