"""The running emulator: orgs by id, tokens, and each org's limits, faults and callouts.

:class:`Emulator` is the one state object the HTTP app is built from (``create_app(emulator)``).
It also implements the OAuth server's ``Directory`` (finding orgs by id, consumer key or
username), and saves itself to a JSON file when asked to persist (``--data FILE``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import os
import secrets
import tempfile
from collections.abc import Coroutine, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sfemu import ids, seeds
from sfemu.callouts import CalloutBook
from sfemu.events import WriteEvent
from sfemu.faults import FaultSet, Latency
from sfemu.limits import DEFAULT_DAILY_LIMIT, ApiUsage
from sfemu.org import DEFAULT_ADMIN_PASSWORD, DEFAULT_ADMIN_USERNAME, Org
from sfemu.rest.cursors import QueryCursors
from sfemu.tokens import TokenStore

log = logging.getLogger("sfemu")

FORMAT_VERSION = 1
SAVE_DELAY_SECONDS = 0.5

#: Callouts raised while an API request runs wait here until its response is sent.
_deferred: contextvars.ContextVar[list[Coroutine[Any, Any, None]] | None] = contextvars.ContextVar(
    "sfemu_deferred_callouts", default=None
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Credentials:
    """How to log in to an org: its connected app and admin user."""

    client_id: str
    client_secret: str
    username: str
    password: str
    user_id: str

    def to_dict(self) -> dict[str, str]:
        return {
            "client_id": self.client_id,
            "client_secret": self.client_secret,
            "username": self.username,
            "password": self.password,
            "user_id": self.user_id,
        }


class OrgState:
    """One org plus what the wire layer keeps for it (usage, faults, latency, callouts)."""

    def __init__(self, org: Org, credentials: Credentials, *, limit: int = DEFAULT_DAILY_LIMIT):
        self.org = org
        self.credentials = credentials
        self.usage = ApiUsage(limit=limit)
        self.faults = FaultSet()
        self.latency = Latency()
        self.callouts = CalloutBook()
        self.cursors = QueryCursors()
        org.add_listener(self.callouts.on_write)

    @property
    def org_id(self) -> str:
        return str(self.org.org_id)

    def settings_dict(self) -> dict[str, Any]:
        """What persists besides the org's data: limit, latency, callout rules."""
        return {
            "limit": self.usage.limit,
            "latency": self.latency.to_dict(),
            "callouts": self.callouts.to_dict(),
        }

    def load_settings(self, data: Mapping[str, Any]) -> None:
        self.usage.limit = int(data.get("limit", DEFAULT_DAILY_LIMIT))
        self.latency = Latency(**data.get("latency", {}))
        self.callouts.load(data.get("callouts", {}))


def new_org(
    *,
    name: str | None = None,
    org_id: str | None = None,
    username: str | None = None,
    password: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> tuple[Org, Credentials]:
    """An org as sfbridge expects it (``Org.default``) and how to log in to it.

    The first org of an emulator gets the documented demo admin; later ones get a unique
    username (usernames are unique across orgs) and a random password.
    """
    username = username or DEFAULT_ADMIN_USERNAME
    password = password or DEFAULT_ADMIN_PASSWORD
    org = Org.default(
        name=name or "sfemu Demo Org",
        admin_username=username,
        admin_password=password,
        client_id=client_id,
        client_secret=client_secret,
        org_id=org_id,
    )
    app = next(iter(org.apps.values()))
    credentials = Credentials(
        client_id=app.client_id,
        client_secret=app.client_secret,
        username=username,
        password=password,
        user_id=org.admin_user_id,
    )
    return org, credentials


class Emulator:
    """Every org of one sfemu process, the token store and the control-plane key.

    Args:
        control_key: the ``X-Emulator-Key`` the control plane requires (random if None).
        data_path: when set, state is saved there (debounced) and at shutdown.
    """

    def __init__(self, *, control_key: str | None = None, data_path: Path | None = None) -> None:
        self.orgs: dict[str, OrgState] = {}
        self.default_org_id: str | None = None
        self.tokens = TokenStore(self)
        self.control_key = control_key or secrets.token_urlsafe(24)
        self.data_path = data_path
        self.auto_approve = False
        self.jwt_requires_approval = False
        self.public_url: str | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.tasks: set[asyncio.Task[None]] = set()
        self._save_handle: asyncio.TimerHandle | None = None
        self._dirty = False

    # -- orgs --------------------------------------------------------------------------

    @classmethod
    def with_default_org(
        cls, *, seed: str | None = None, control_key: str | None = None
    ) -> Emulator:
        """A new emulator holding one default org (optionally seeded)."""
        emulator = cls(control_key=control_key)
        emulator.create_org(seed=seed, default=True)
        return emulator

    def create_org(
        self, *, seed: str | None = None, default: bool = False, name: str | None = None
    ) -> OrgState:
        """Create an org (with the sfbridge custom fields, an admin and a connected app)."""
        if not self.orgs:
            org, credentials = new_org(name=name)
        else:
            tag = secrets.token_hex(4)
            org, credentials = new_org(
                name=name,
                username=f"admin.{tag}@sfemu.example.com",
                password=secrets.token_urlsafe(12),
            )
        if seed:
            seeds.apply_seed(org, seed)
        state = OrgState(org, credentials)
        self.add_state(state)
        if default or self.default_org_id is None:
            self.default_org_id = state.org_id
        self.mark_dirty()
        return state

    def add_state(self, state: OrgState) -> None:
        self.orgs[state.org_id] = state
        state.callouts.schedule = self.schedule
        state.org.add_listener(self._on_write)

    def reset_org(self, org_id: str, *, seed: str | None = None) -> OrgState:
        """Fresh data for an org, keeping its id, credentials and settings.

        Raises:
            KeyError: no such org.
        """
        old = self.orgs[org_id]
        creds = old.credentials
        org, credentials = new_org(
            name=old.org.name,
            org_id=old.org_id,
            username=creds.username,
            password=creds.password,
            client_id=creds.client_id,
            client_secret=creds.client_secret,
        )
        # Every app survives, including changes made to the default one (callback URLs).
        org.apps.update(old.org.apps)
        org.session_timeout_seconds = old.org.session_timeout_seconds
        org.search_lag_seconds = old.org.search_lag_seconds
        if seed:
            seeds.apply_seed(org, seed)
        state = OrgState(org, credentials, limit=old.usage.limit)
        state.latency = old.latency
        state.callouts.load(old.callouts.to_dict())
        self.add_state(state)
        self.mark_dirty()
        return state

    def state(self, org_id: str) -> OrgState | None:
        """An org's state by 15- or 18-character id."""
        found = self.orgs.get(org_id)
        if found is None and len(org_id) == 15:
            full = ids.try_normalize(org_id)
            found = self.orgs.get(full) if full else None
        return found

    @property
    def default_state(self) -> OrgState:
        if self.default_org_id is None:
            raise LookupError("the emulator has no org")
        return self.orgs[self.default_org_id]

    # -- the OAuth server's Directory --------------------------------------------------

    def org(self, org_id: str) -> Org | None:
        state = self.state(org_id)
        return state.org if state else None

    def org_for_client(self, client_id: str) -> Org | None:
        for state in self.orgs.values():
            if client_id in state.org.apps:
                return state.org
        return None

    def org_for_username(self, username: str) -> Org | None:
        for state in self.orgs.values():
            if state.org.user_by_username(username) is not None:
                return state.org
        return None

    # -- callouts ----------------------------------------------------------------------

    def schedule(self, coro: Coroutine[Any, Any, None]) -> None:
        """Run a callout: after the current API response when inside one, else at once."""
        pending = _deferred.get()
        if pending is not None:
            pending.append(coro)
            return
        self._spawn(coro)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            task = loop.create_task(coro)
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)
        elif self.loop is not None and self.loop.is_running():
            asyncio.run_coroutine_threadsafe(coro, self.loop)
        else:
            coro.close()
            log.warning("callout dropped: no event loop is running")

    @contextlib.contextmanager
    def deferring(self) -> Iterator[list[Coroutine[Any, Any, None]]]:
        """Collect callouts raised inside the block; the caller runs them with :meth:`release`."""
        pending: list[Coroutine[Any, Any, None]] = []
        token = _deferred.set(pending)
        try:
            yield pending
        finally:
            _deferred.reset(token)

    def release(self, pending: list[Coroutine[Any, Any, None]]) -> None:
        for coro in pending:
            self._spawn(coro)
        pending.clear()

    # -- persistence -------------------------------------------------------------------

    def _on_write(self, _: WriteEvent) -> None:
        self.mark_dirty()

    def attach(self, loop: asyncio.AbstractEventLoop | None) -> None:
        """Bind to the serving event loop (None when it stops); flush pending changes soon."""
        self.loop = loop
        if self._save_handle is not None:
            self._save_handle.cancel()
            self._save_handle = None
        if loop is not None and self._dirty:
            self._dirty = False
            self.mark_dirty()

    def mark_dirty(self) -> None:
        """Note a change; with a data file, schedule a save shortly."""
        if self.data_path is None:
            return
        self._dirty = True
        loop = self.loop
        if loop is None or self._save_handle is not None or not loop.is_running():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._save_handle = loop.call_later(SAVE_DELAY_SECONDS, self._timed_save)
        else:
            loop.call_soon_threadsafe(self.mark_dirty)

    def _timed_save(self) -> None:
        self._save_handle = None
        self.flush()

    def flush(self) -> None:
        """Save now if anything changed since the last save."""
        if self.data_path is not None and self._dirty:
            self.save(self.data_path)
            self._dirty = False

    def to_dict(self) -> dict[str, Any]:
        """The whole emulator as JSON-compatible data."""
        return {
            "format": FORMAT_VERSION,
            "control_key": self.control_key,
            "default_org_id": self.default_org_id,
            "auto_approve": self.auto_approve,
            "orgs": [
                {
                    "org": state.org.to_dict(),
                    "credentials": state.credentials.to_dict(),
                    "settings": state.settings_dict(),
                }
                for state in self.orgs.values()
            ],
            "tokens": self.tokens.to_dict(),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, data_path: Path | None = None) -> Emulator:
        """Rebuild an emulator saved with :meth:`to_dict`."""
        emulator = cls(control_key=data.get("control_key"), data_path=data_path)
        emulator.auto_approve = bool(data.get("auto_approve", False))
        for item in data.get("orgs", []):
            org = Org.from_dict(item["org"])
            state = OrgState(org, Credentials(**item["credentials"]))
            state.load_settings(item.get("settings", {}))
            emulator.add_state(state)
        emulator.default_org_id = data.get("default_org_id")
        emulator.tokens = TokenStore.from_dict(data.get("tokens", {}), emulator)
        return emulator

    def save(self, path: Path) -> None:
        """Write the state to ``path`` atomically (temporary file, then rename)."""
        payload = json.dumps(self.to_dict(), default=_json_default, separators=(",", ":"))
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=path.name, suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(payload)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    @classmethod
    def load(cls, path: Path) -> Emulator:
        """Read an emulator saved with :meth:`save`; it keeps saving to ``path``."""
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls.from_dict(data, data_path=path)


def _json_default(value: Any) -> Any:
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError(f"cannot persist {type(value).__name__}")
