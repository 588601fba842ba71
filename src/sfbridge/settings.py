"""sfbridge's settings: read once from the environment (and an optional file) into a frozen object.

Only the composition root calls :func:`load_settings`; everything else receives a
:class:`Settings` (tests build one directly: every field has a default). Precedence is
environment variable > config file (``SFBRIDGE_CONFIG``) > default. An invalid value
stops startup with a :class:`~sfbridge.errors.ConfigError` whose message is one
sentence saying what to fix. Every setting is described in ``docs/configuration.md``.
"""

from __future__ import annotations

import difflib
import enum
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from sfbridge import secrets
from sfbridge.errors import ConfigError

T = TypeVar("T")

CONFIG_FILE_VAR = "SFBRIDGE_CONFIG"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


class Secret:
    """A string that never shows itself in ``repr()``, ``str()``, logs or tracebacks.

    Args:
        value: The secret text; read it back with :meth:`reveal`.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """Return the secret text. Call this only where the value is used."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class DemoMode(enum.StrEnum):
    """When sfbridge starts the built-in emulator as a demo Salesforce org."""

    AUTO = "auto"  #: when no workspace has a real Salesforce connection
    ON = "on"  #: always; also allows any login host
    OFF = "off"  #: never


class LogLevel(enum.StrEnum):
    """Log verbosity, as the stdlib ``logging`` names it."""

    DEBUG = "DEBUG"
    INFO = "INFO"
    WARNING = "WARNING"
    ERROR = "ERROR"


@dataclass(frozen=True, kw_only=True, slots=True)
class SmtpSettings:
    """Outbound mail relay. ``host=None`` keeps outbound mail in the dev mailbox."""

    host: str | None = None
    port: int = 587
    username: str | None = None
    password: Secret | None = None
    starttls: bool = True
    tls: bool = False
    from_address: str = "sfbridge@localhost"

    @property
    def is_dev_mailbox(self) -> bool:
        """True when no relay is configured and mail stays in the dev mailbox."""
        return self.host is None


@dataclass(frozen=True, kw_only=True, slots=True)
class Settings:
    """Everything sfbridge reads from its environment, validated."""

    database_url: Secret | None = None
    data_dir: Path = Path(".sfbridge")
    public_url: str = f"http://{DEFAULT_HOST}:{DEFAULT_PORT}"
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    encryption_key: Secret | None = None
    previous_encryption_keys: tuple[Secret, ...] = ()
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    smtp_listen_host: str = "127.0.0.1"
    smtp_listen_port: int = 2525
    smtp_max_message_bytes: int = 10 * 1024 * 1024
    allowed_login_hosts: tuple[str, ...] = ()
    demo: DemoMode = DemoMode.AUTO
    log_level: LogLevel = LogLevel.INFO
    worker_concurrency: int = 4
    db_pool_size: int = 10
    trace_retention_days: int = 30

    @property
    def uses_embedded_postgres(self) -> bool:
        """True when no ``DATABASE_URL`` is set and sfbridge runs its own Postgres."""
        return self.database_url is None

    @property
    def postgres_dir(self) -> Path:
        """Where the embedded Postgres keeps its files."""
        return self.data_dir / "pg"

    @property
    def key_file(self) -> Path:
        """Where the generated encryption key lives when none is configured."""
        return self.data_dir / "secret.key"

    def public_url_for(self, path: str) -> str:
        """Return the absolute public URL of ``path`` (for redirect URIs and webhook URLs)."""
        return self.public_url + "/" + path.lstrip("/")


# --- parsing -------------------------------------------------------------------------------


def _int_in(low: int, high: int) -> Callable[[str, str], int]:
    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw.strip())
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise ConfigError(f"{name} must be a number between {low} and {high}, got {raw!r}.")
        return value

    return parse


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _bool(name: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {raw!r}.")


def _choice(enum_type: type[T]) -> Callable[[str, str], T]:
    def parse(name: str, raw: str) -> T:
        members = list(enum_type)  # type: ignore[call-overload]  # T is an Enum subclass
        for member in members:
            if str(member.value).lower() == raw.strip().lower():
                return member  # type: ignore[no-any-return]  # members of enum_type are T
        allowed = ", ".join(str(m.value).lower() for m in members)
        raise ConfigError(f"{name} must be one of {allowed}, got {raw!r}.")

    return parse


def _http_url(name: str, raw: str) -> str:
    value = raw.strip().rstrip("/")
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"{name} must be an http:// or https:// URL such as https://bridge.example.com, got {raw!r}."
        )
    if parts.query or parts.fragment:
        raise ConfigError(f"{name} must not contain a query string or fragment, got {raw!r}.")
    return value


def _database_url(name: str, raw: str) -> Secret:
    value = raw.strip()
    if not value.startswith(("postgresql://", "postgres://")):
        shown = (
            value.split("://", 1)[0] + "://..." if "://" in value else "a value without a scheme"
        )
        raise ConfigError(
            f"{name} must be a postgresql:// URL such as postgresql://user:password@host:5432/sfbridge, got {shown}."
        )
    return Secret(value)


_HOST_RE = re.compile(
    r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$"
)


def _hosts(name: str, raw: str) -> tuple[str, ...]:
    hosts = []
    for item in raw.split(","):
        host = item.strip().lower()
        if not host:
            continue
        if not _HOST_RE.match(host):
            raise ConfigError(
                f"{name} must be a comma-separated list of host names (host or host:port, no https://), got {item.strip()!r}."
            )
        hosts.append(host)
    return tuple(hosts)


def _text(name: str, raw: str) -> str:
    value = raw.strip()
    if not value:
        raise ConfigError(f"{name} must not be empty; remove it to use the default.")
    return value


def _path(name: str, raw: str) -> Path:
    return Path(_text(name, raw)).expanduser()


def _secret(name: str, raw: str) -> Secret:
    return Secret(_text(name, raw))


def _key(name: str, raw: str) -> Secret:
    secrets.parse_key(raw, source=name)
    return Secret(raw.strip())


def _keys(name: str, raw: str) -> tuple[Secret, ...]:
    return tuple(_key(name, item) for item in raw.split(",") if item.strip())


def _email(name: str, raw: str) -> str:
    value = raw.strip()
    if not re.fullmatch(r"[^@\s<>]+@[^@\s<>]+", value):
        raise ConfigError(
            f"{name} must be an email address such as bridge@example.com, got {raw!r}."
        )
    return value


_SIZE_RE = re.compile(r"^\s*(\d+)\s*(b|k|kb|kib|m|mb|mib)?\s*$", re.IGNORECASE)
_SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "kib": 1024,
    "m": 1 << 20,
    "mb": 1 << 20,
    "mib": 1 << 20,
}


def _size(name: str, raw: str) -> int:
    match = _SIZE_RE.match(raw)
    value = int(match.group(1)) * _SIZE_UNITS[(match.group(2) or "").lower()] if match else 0
    if not 1024 <= value <= 100 * (1 << 20):
        raise ConfigError(
            f"{name} must be a size between 1KB and 100MB (bytes, or with a KB/MB suffix), got {raw!r}."
        )
    return value


# Each known variable: its parser and the Settings (or SmtpSettings) field it fills.
_FIELDS: dict[str, tuple[str, Callable[[str, str], object]]] = {
    "DATABASE_URL": ("database_url", _database_url),
    "SFBRIDGE_DATA_DIR": ("data_dir", _path),
    "SFBRIDGE_PUBLIC_URL": ("public_url", _http_url),
    "SFBRIDGE_HOST": ("host", _text),
    "SFBRIDGE_PORT": ("port", _int_in(1, 65535)),
    "SFBRIDGE_ENCRYPTION_KEY": ("encryption_key", _key),
    "SFBRIDGE_PREVIOUS_ENCRYPTION_KEYS": ("previous_encryption_keys", _keys),
    "SFBRIDGE_SMTP_LISTEN_HOST": ("smtp_listen_host", _text),
    "SFBRIDGE_SMTP_LISTEN_PORT": ("smtp_listen_port", _int_in(1, 65535)),
    "SFBRIDGE_SMTP_MAX_MESSAGE_SIZE": ("smtp_max_message_bytes", _size),
    "SFBRIDGE_ALLOWED_LOGIN_HOSTS": ("allowed_login_hosts", _hosts),
    "SFBRIDGE_DEMO": ("demo", _choice(DemoMode)),
    "SFBRIDGE_LOG_LEVEL": ("log_level", _choice(LogLevel)),
    "SFBRIDGE_WORKER_CONCURRENCY": ("worker_concurrency", _int_in(1, 64)),
    "SFBRIDGE_DB_POOL_SIZE": ("db_pool_size", _int_in(2, 100)),
    "SFBRIDGE_TRACE_RETENTION_DAYS": ("trace_retention_days", _int_in(1, 3650)),
}
_SMTP_FIELDS: dict[str, tuple[str, Callable[[str, str], object]]] = {
    "SFBRIDGE_SMTP_HOST": ("host", _text),
    "SFBRIDGE_SMTP_PORT": ("port", _int_in(1, 65535)),
    "SFBRIDGE_SMTP_USERNAME": ("username", _text),
    "SFBRIDGE_SMTP_PASSWORD": ("password", _secret),
    "SFBRIDGE_SMTP_STARTTLS": ("starttls", _bool),
    "SFBRIDGE_SMTP_TLS": ("tls", _bool),
    "SFBRIDGE_SMTP_FROM": ("from_address", _email),
}
KNOWN_VARIABLES = frozenset({*_FIELDS, *_SMTP_FIELDS, CONFIG_FILE_VAR})


def load_settings(environ: Mapping[str, str]) -> Settings:
    """Build :class:`Settings` from environment variables and the optional config file.

    Args:
        environ: Usually ``os.environ``. ``SFBRIDGE_CONFIG`` may name a file of
            ``KEY=VALUE`` lines or a ``.toml`` file using the same keys; variables in
            ``environ`` win over the file.

    Raises:
        ConfigError: A value is invalid or the config file cannot be read.
    """
    values: dict[str, str] = {}
    config_path = environ.get(CONFIG_FILE_VAR, "").strip()
    if config_path:
        values.update(read_config_file(Path(config_path).expanduser()))
    values.update({k: v for k, v in environ.items() if k in KNOWN_VARIABLES})
    values = {k: v for k, v in values.items() if v.strip()}  # empty means "use the default"
    main = {
        attr: parse(var, values[var]) for var, (attr, parse) in _FIELDS.items() if var in values
    }
    smtp_kwargs = {
        attr: parse(var, values[var])
        for var, (attr, parse) in _SMTP_FIELDS.items()
        if var in values
    }
    smtp = SmtpSettings(**smtp_kwargs)  # type: ignore[arg-type]  # each parser returns its field's type
    _check_smtp(smtp)
    if "public_url" not in main:  # follows the listen address unless configured
        host, port = main.get("host", DEFAULT_HOST), main.get("port", DEFAULT_PORT)
        main["public_url"] = f"http://{_shown(str(host))}:{port}"
    return Settings(smtp=smtp, **main)  # type: ignore[arg-type]  # each parser returns its field's type


def _shown(host: str) -> str:
    """A wildcard bind address as a browser would reach it."""
    return "127.0.0.1" if host in ("0.0.0.0", "::", "") else host  # noqa: S104 - a comparison, not a bind


def _check_smtp(smtp: SmtpSettings) -> None:
    if smtp.password is not None and smtp.username is None:
        raise ConfigError("SFBRIDGE_SMTP_USERNAME must be set when SFBRIDGE_SMTP_PASSWORD is set.")
    if smtp.tls and smtp.starttls:
        raise ConfigError(
            "SFBRIDGE_SMTP_TLS and SFBRIDGE_SMTP_STARTTLS cannot both be true; "
            "use TLS for port 465 and STARTTLS for port 587."
        )


def read_config_file(path: Path) -> dict[str, str]:
    """Read a config file into ``{VARIABLE: text}``.

    A ``.toml`` file holds top-level ``KEY = value`` pairs; any other file holds
    ``KEY=VALUE`` lines (``#`` comments, blank lines, optional quotes and ``export``).

    Raises:
        ConfigError: The file is missing, malformed, or names an unknown setting.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"{CONFIG_FILE_VAR} points at {str(path)!r}, which cannot be read ({exc.strerror})."
        ) from exc
    pairs = _parse_toml(path, text) if path.suffix == ".toml" else _parse_lines(path, text)
    for key in pairs:
        if key not in KNOWN_VARIABLES:
            hint = difflib.get_close_matches(key, sorted(KNOWN_VARIABLES), n=1)
            suggestion = f"; did you mean {hint[0]}?" if hint else "; see docs/configuration.md."
            raise ConfigError(f"The config file {path} sets unknown setting {key!r}{suggestion}")
    return pairs


def _parse_toml(path: Path, text: str) -> dict[str, str]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"The config file {path} is not valid TOML ({exc}).") from exc
    pairs: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, bool):
            pairs[key] = "true" if value else "false"
        elif isinstance(value, list):
            pairs[key] = ",".join(str(item) for item in value)
        elif isinstance(value, str | int):
            pairs[key] = str(value)
        else:
            raise ConfigError(
                f"The config file {path} sets {key} to a table; use a string, number or boolean."
            )
    return pairs


def _parse_lines(path: Path, text: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        stripped = stripped.removeprefix("export ").strip()
        key, sep, value = stripped.partition("=")
        if not sep or not key.strip():
            raise ConfigError(
                f"Line {number} of the config file {path} must look like KEY=VALUE, got {line.strip()!r}."
            )
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        pairs[key.strip()] = value
    return pairs
