"""The dependencies every entry point (web app, job worker, CLI) receives, built in ``compose``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from procrastinate import App

from sfbridge.secrets import SecretBox
from sfbridge.services.connections import ConnectionService
from sfbridge.services.sfaccess import SalesforceAccess
from sfbridge.settings import Settings
from sfbridge.store.db import Database


@dataclass(frozen=True, slots=True)
class DemoOrg:
    """The emulated Salesforce org a demo workspace is connected to."""

    instance_url: str
    control_url: str
    control_key: str
    username: str
    password: str


@dataclass(kw_only=True, slots=True)
class Deps:
    """Everything a request handler or a job needs. One per process."""

    settings: Settings
    db: Database
    box: SecretBox
    jobs: App
    access: SalesforceAccess
    connections: ConnectionService
    demo: DemoOrg | None = None
    #: Set by ``serve`` once every part answers; the readiness probe reads it.
    ready: bool = False
    extras: dict[str, Any] = field(default_factory=dict)
