"""The root of every error sfbridge raises on purpose, and the errors of its foundation.

Other packages derive their own trees from :class:`BridgeError` (``salesforce.errors``,
``mail.errors``); the web layer maps the classes to HTTP statuses in one place. Foreign
exceptions (psycopg, procrastinate, cryptography) are translated where they are caught,
so callers only ever see this tree::

    BridgeError
    ├── ConfigError                 a setting is missing or invalid (message says what to fix)
    ├── SecretError                 a stored secret cannot be decrypted
    │   ├── SecretTampered          the ciphertext or its context was changed
    │   └── UnknownSecretKey        encrypted with a key this process does not hold
    ├── StoreError                  the database refused or failed a statement
    │   ├── StoreUnavailable        cannot reach Postgres (connection refused, dropped, timeout)
    │   ├── ConstraintViolation     a rule of the schema said no (``constraint``)
    │   │   ├── DuplicateRow        a unique constraint
    │   │   ├── MissingReference    a foreign key points at nothing
    │   │   └── InvalidRow          a check, not-null or type rule
    │   ├── UnknownQuery            a named query does not exist in queries.sql
    │   └── MigrationError          a migration file failed or the migrations are inconsistent
    └── JobError                    the job queue refused a request
        ├── AlreadyQueued           a job with the same queueing lock is already waiting
        └── JobNotFound             no failed job with that id in that workspace
        (salesforce.errors.SalesforceError, mail.errors.MailError ... derive from BridgeError)

Each class's docstring is its default message; subclasses carry data as attributes,
never as formatted strings only.
"""

from __future__ import annotations


class BridgeError(Exception):
    """sfbridge failed to do what was asked."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.__doc__)

    @property
    def message(self) -> str:
        """The human sentence this error carries."""
        return str(self.args[0])


class ConfigError(BridgeError):
    """The configuration is invalid."""


class SecretError(BridgeError):
    """A stored secret cannot be decrypted."""


class SecretTampered(SecretError):
    """A stored secret was changed or moved to another record; it cannot be trusted."""


class UnknownSecretKey(SecretError):
    """A stored secret was encrypted with a key this process does not hold."""

    def __init__(self, message: str | None = None, *, key_id: str = "") -> None:
        super().__init__(message)
        self.key_id = key_id


class StoreError(BridgeError):
    """The database failed to run a statement."""


class StoreUnavailable(StoreError):
    """The database cannot be reached."""


class ConstraintViolation(StoreError):
    """A statement broke a rule of the schema."""

    def __init__(self, message: str | None = None, *, constraint: str | None = None) -> None:
        super().__init__(message)
        self.constraint = constraint


class DuplicateRow(ConstraintViolation):
    """A row with the same unique value already exists."""


class MissingReference(ConstraintViolation):
    """The row refers to another row that does not exist."""


class InvalidRow(ConstraintViolation):
    """The row breaks a rule of the schema (check, not-null or type)."""


class UnknownQuery(StoreError):
    """No query with that name exists in queries.sql."""


class MigrationError(StoreError):
    """A database migration failed."""


class JobError(BridgeError):
    """The job queue refused the request."""


class AlreadyQueued(JobError):
    """A job with the same queueing lock is already waiting."""

    def __init__(self, message: str | None = None, *, queueing_lock: str | None = None) -> None:
        super().__init__(message)
        self.queueing_lock = queueing_lock


class JobNotFound(JobError):
    """No such failed job in this workspace."""
