"""Users, permissions, field-level security, passwords and connected apps of an org."""

from __future__ import annotations

from collections.abc import Iterable

from sfemu import dml, ids, passwords
from sfemu.apps import DEFAULT_SCOPES, ConnectedApp, new_client_id, new_client_secret
from sfemu.model import Record
from sfemu.state import OrgState


class OrgAccess(OrgState):
    """Who may do what: permissions, hidden fields, passwords and OAuth clients."""

    def user_by_username(self, username: str) -> Record | None:
        """The User record with this username (case-insensitive), or None."""
        found = self.lookup("User", "Username", username)
        return found[0] if found else None

    def grant(self, user_id: str, permission: str) -> None:
        """Give a user a permission (``ApiEnabled``, ``ViewAllData``, ``SetAuditFields`` ...)."""
        self._permissions.setdefault(self._require_user(user_id), set()).add(permission)

    def revoke(self, user_id: str, permission: str) -> None:
        """Take a permission away."""
        self._permissions.get(self._require_user(user_id), set()).discard(permission)

    def has_permission(self, user_id: str, permission: str) -> bool:
        """True when the user holds ``permission``."""
        normalized = ids.try_normalize(user_id)
        return normalized is not None and permission in self._permissions.get(normalized, ())

    def permissions(self, user_id: str) -> frozenset[str]:
        """The user's permissions."""
        return frozenset(self._permissions.get(ids.try_normalize(user_id) or "", ()))

    def hide_field(self, object_name: str, field: str, user_id: str) -> None:
        """Field-level security: make the field invisible (and read-only) for the user."""
        obj = self._require_object(object_name)
        fdef = obj.field(field)
        if fdef is None:
            raise dml.invalid_field(obj, field)
        self._hidden.setdefault(self._require_user(user_id), set()).add((obj.name, fdef.name))

    def show_field(self, object_name: str, field: str, user_id: str) -> None:
        """Undo :meth:`hide_field`."""
        obj = self._require_object(object_name)
        fdef = obj.field(field)
        if fdef is None:
            raise dml.invalid_field(obj, field)
        self._hidden.get(self._require_user(user_id), set()).discard((obj.name, fdef.name))

    def set_password(self, user_id: str, password: str) -> None:
        """Set a user's password (only a salted hash is kept)."""
        self._password_hashes[self._require_user(user_id)] = passwords.hash_password(password)

    def check_password(self, username: str, password: str) -> str | None:
        """The user's id when the username/password pair is right and the user active."""
        user = self.user_by_username(username)
        if user is None or not user["IsActive"]:
            return None
        stored = self._password_hashes.get(user["Id"])
        if stored is None or not passwords.verify_password(password, stored):
            return None
        return str(user["Id"])

    def create_connected_app(
        self,
        name: str,
        *,
        callback_urls: Iterable[str] = (),
        scopes: Iterable[str] = DEFAULT_SCOPES,
        client_id: str | None = None,
        client_secret: str | None = None,
        refresh_token_rotation: bool = False,
        jwt_public_key_pem: str | None = None,
        client_credentials_user_id: str | None = None,
    ) -> ConnectedApp:
        """Register an OAuth client; id and secret are generated when not given."""
        run_as = (
            self._require_user(client_credentials_user_id) if client_credentials_user_id else None
        )
        app = ConnectedApp(
            client_id=client_id or new_client_id(),
            client_secret=client_secret or new_client_secret(),
            name=name,
            callback_urls=tuple(callback_urls),
            scopes=tuple(scopes),
            refresh_token_rotation=refresh_token_rotation,
            jwt_public_key_pem=jwt_public_key_pem,
            client_credentials_user_id=run_as,
        )
        self.apps[app.client_id] = app
        return app
