"""The daily keep-alive: renew every connected workspace's tokens before they go stale.

Orgs may expire refresh tokens that sit unused (the connected app's "expire if not used for
N" policy). A workspace with no traffic for days would then find its grant dead exactly when
a customer writes in. Once a day this sweep renews each connected workspace whose tokens are
older than ``max_age``: the refresh token stays in use, and a dead grant is found (and the
connection marked "needs reconnect") before real work needs it. JWT bearer and
client-credentials connections run their grant again, which checks their setup the same way.

``max_age`` defaults to 20 hours, not 24: a sweep that runs daily at the same minute must not
skip a token issued a few seconds less than a day earlier.

Register it on the job app with :func:`register` (``compose.task_registrars``); the task finds
:class:`~sfbridge.services.sfaccess.SalesforceAccess` in the worker context as ``sf_access``,
or as ``deps.access``.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from procrastinate import Blueprint, JobContext

from sfbridge.errors import BridgeError
from sfbridge.jobs import Queue, context_db
from sfbridge.salesforce.errors import ReconnectNeeded, SalesforceError
from sfbridge.services.sfaccess import SalesforceAccess
from sfbridge.store import connections
from sfbridge.store.db import Database

logger = logging.getLogger(__name__)

#: Renew tokens older than this (see the module docstring for why not 24 hours).
DEFAULT_MAX_AGE = dt.timedelta(hours=20)
#: Daily, at a quiet minute.
REFRESH_CRON = "41 2 * * *"
TASK_NAME = "refresh_connections"


class RefreshSweepError(BridgeError):
    """The refresh sweep cannot run (its dependencies are missing)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RefreshSweep:
    """What one sweep did, by workspace id."""

    renewed: tuple[str, ...]
    still_fresh: tuple[str, ...]
    needs_reconnect: tuple[str, ...]
    failed: tuple[str, ...]  #: transient trouble (5xx, network); tried again next sweep


async def refresh_connections(
    db: Database, access: SalesforceAccess, *, max_age: dt.timedelta = DEFAULT_MAX_AGE
) -> RefreshSweep:
    """Renew the tokens of every connected workspace older than ``max_age``.

    One workspace's failure never stops the others. A dead grant marks that connection
    "needs reconnect" (its jobs then wait); transient errors are logged and retried by the
    next sweep.

    Args:
        db: the database holding the connections.
        access: the process's Salesforce access (its refresh lock keeps a renewal single
            across processes, so a sweep never races a live refresh).
        max_age: renew tokens issued longer ago than this.

    Returns:
        The workspaces renewed, still fresh, now needing a reconnect, and failed.
    """
    async with db.transaction() as tx:
        workspace_ids = await connections.list_connected(tx)
    renewed: list[str] = []
    fresh: list[str] = []
    dead: list[str] = []
    failed: list[str] = []
    for workspace_id in workspace_ids:
        try:
            if await access.ensure_fresh(workspace_id, max_age):
                renewed.append(workspace_id)
            else:
                fresh.append(workspace_id)
        except ReconnectNeeded as exc:
            logger.warning("Workspace %s needs a Salesforce reconnect: %s", workspace_id, exc)
            dead.append(workspace_id)
        except SalesforceError as exc:
            logger.warning("Could not renew workspace %s's tokens: %s", workspace_id, exc)
            failed.append(workspace_id)
    return RefreshSweep(
        renewed=tuple(renewed),
        still_fresh=tuple(fresh),
        needs_reconnect=tuple(dead),
        failed=tuple(failed),
    )


def access_from_context(context: JobContext) -> SalesforceAccess:
    """The :class:`SalesforceAccess` a task runs with: ``sf_access``, else ``deps.access``.

    Raises:
        RefreshSweepError: the worker was started without either.
    """
    extra = context.additional_context
    access = extra.get("sf_access")
    if isinstance(access, SalesforceAccess):
        return access
    access = getattr(extra.get("deps"), "access", None)
    if isinstance(access, SalesforceAccess):
        return access
    raise RefreshSweepError(
        "The worker was started without Salesforce access: pass "
        "worker_options(db, context={'deps': deps})."
    )


def register(blueprint: Blueprint) -> None:
    """Register the daily refresh sweep (periodic, coalesced) on ``blueprint``."""

    @blueprint.periodic(cron=REFRESH_CRON)
    @blueprint.task(
        name=TASK_NAME,
        queue=Queue.DEFAULT.value,
        queueing_lock=TASK_NAME,
        pass_context=True,
    )
    async def refresh_connections_task(context: JobContext, timestamp: int) -> int:
        sweep = await refresh_connections(context_db(context), access_from_context(context))
        if sweep.renewed or sweep.needs_reconnect or sweep.failed:
            logger.info(
                "Token sweep: %d renewed, %d fresh, %d need reconnect, %d failed",
                len(sweep.renewed),
                len(sweep.still_fresh),
                len(sweep.needs_reconnect),
                len(sweep.failed),
            )
        return len(sweep.renewed)
