"""Settings parsing and SecretBox sealing: pure, table-driven."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from sfbridge import secrets
from sfbridge.errors import ConfigError, SecretTampered, UnknownSecretKey
from sfbridge.settings import DemoMode, LogLevel, Secret, Settings, load_settings

KEY = base64.urlsafe_b64encode(bytes(range(32))).decode()
OTHER_KEY = base64.urlsafe_b64encode(bytes(range(1, 33))).decode()


def test_defaults_when_environment_is_empty() -> None:
    settings = load_settings({})
    assert settings == Settings()
    assert settings.database_url is None
    assert settings.uses_embedded_postgres
    assert settings.data_dir == Path(".sfbridge")
    assert settings.public_url == "http://127.0.0.1:8080"
    assert settings.port == 8080
    assert settings.smtp.is_dev_mailbox
    assert settings.smtp_listen_port == 2525
    assert settings.demo is DemoMode.AUTO
    assert settings.trace_retention_days == 30
    assert settings.key_file == Path(".sfbridge/secret.key")
    assert settings.postgres_dir == Path(".sfbridge/pg")


@pytest.mark.parametrize(
    ("environ", "attribute", "expected"),
    [
        ({"SFBRIDGE_PORT": "9000"}, "port", 9000),
        ({"SFBRIDGE_PORT": " 1 "}, "port", 1),
        ({"SFBRIDGE_HOST": "10.0.0.5"}, "host", "10.0.0.5"),
        ({"SFBRIDGE_DATA_DIR": "/var/lib/sfbridge"}, "data_dir", Path("/var/lib/sfbridge")),
        ({"SFBRIDGE_PUBLIC_URL": "https://b.example.com/"}, "public_url", "https://b.example.com"),
        ({"SFBRIDGE_PUBLIC_URL": "https://x.io/bridge"}, "public_url", "https://x.io/bridge"),
        ({"SFBRIDGE_SMTP_LISTEN_PORT": "25"}, "smtp_listen_port", 25),
        ({"SFBRIDGE_SMTP_MAX_MESSAGE_SIZE": "2048"}, "smtp_max_message_bytes", 2048),
        ({"SFBRIDGE_SMTP_MAX_MESSAGE_SIZE": "25MB"}, "smtp_max_message_bytes", 25 << 20),
        ({"SFBRIDGE_SMTP_MAX_MESSAGE_SIZE": "512 kb"}, "smtp_max_message_bytes", 512 << 10),
        (
            {"SFBRIDGE_ALLOWED_LOGIN_HOSTS": "Login.Example.com, 127.0.0.1:8787,"},
            "allowed_login_hosts",
            ("login.example.com", "127.0.0.1:8787"),
        ),
        ({"SFBRIDGE_DEMO": "ON"}, "demo", DemoMode.ON),
        ({"SFBRIDGE_DEMO": "off"}, "demo", DemoMode.OFF),
        ({"SFBRIDGE_LOG_LEVEL": "debug"}, "log_level", LogLevel.DEBUG),
        ({"SFBRIDGE_WORKER_CONCURRENCY": "16"}, "worker_concurrency", 16),
        ({"SFBRIDGE_DB_POOL_SIZE": "20"}, "db_pool_size", 20),
        ({"SFBRIDGE_TRACE_RETENTION_DAYS": "7"}, "trace_retention_days", 7),
        (
            {"DATABASE_URL": "postgresql://u:p@db:5432/sfb"},
            "database_url",
            Secret("postgresql://u:p@db:5432/sfb"),
        ),
        ({"SFBRIDGE_ENCRYPTION_KEY": KEY}, "encryption_key", Secret(KEY)),
        (
            {"SFBRIDGE_PREVIOUS_ENCRYPTION_KEYS": f"{KEY},{OTHER_KEY}"},
            "previous_encryption_keys",
            (Secret(KEY), Secret(OTHER_KEY)),
        ),
        ({"SFBRIDGE_PORT": ""}, "port", 8080),  # empty means "use the default"
        ({"SFBRIDGE_HOST": "   "}, "host", "127.0.0.1"),
        ({"UNRELATED": "x", "SFBRIDGE_PORTT": "x"}, "port", 8080),  # unknown env vars ignored
    ],
)
def test_valid_values(environ: dict[str, str], attribute: str, expected: object) -> None:
    assert getattr(load_settings(environ), attribute) == expected


@pytest.mark.parametrize(
    ("environ", "attribute", "expected"),
    [
        ({"SFBRIDGE_SMTP_HOST": "smtp.example.com"}, "host", "smtp.example.com"),
        (
            {
                "SFBRIDGE_SMTP_PORT": "465",
                "SFBRIDGE_SMTP_TLS": "true",
                "SFBRIDGE_SMTP_STARTTLS": "no",
            },
            "tls",
            True,
        ),
        ({"SFBRIDGE_SMTP_STARTTLS": "off"}, "starttls", False),
        ({"SFBRIDGE_SMTP_STARTTLS": "1"}, "starttls", True),
        ({"SFBRIDGE_SMTP_USERNAME": "u", "SFBRIDGE_SMTP_PASSWORD": "pw"}, "password", Secret("pw")),
        ({"SFBRIDGE_SMTP_FROM": "support@acme.test"}, "from_address", "support@acme.test"),
    ],
)
def test_valid_smtp_values(environ: dict[str, str], attribute: str, expected: object) -> None:
    assert getattr(load_settings(environ).smtp, attribute) == expected


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        (
            {"SFBRIDGE_PORT": "abc"},
            "SFBRIDGE_PORT must be a number between 1 and 65535, got 'abc'.",
        ),
        ({"SFBRIDGE_PORT": "0"}, "SFBRIDGE_PORT must be a number between 1 and 65535, got '0'."),
        (
            {"SFBRIDGE_PORT": "70000"},
            "SFBRIDGE_PORT must be a number between 1 and 65535, got '70000'.",
        ),
        (
            {"SFBRIDGE_SMTP_LISTEN_PORT": "-1"},
            "SFBRIDGE_SMTP_LISTEN_PORT must be a number between 1 and 65535",
        ),
        (
            {"SFBRIDGE_WORKER_CONCURRENCY": "0"},
            "SFBRIDGE_WORKER_CONCURRENCY must be a number between 1 and 64",
        ),
        (
            {"SFBRIDGE_TRACE_RETENTION_DAYS": "1.5"},
            "SFBRIDGE_TRACE_RETENTION_DAYS must be a number",
        ),
        (
            {"SFBRIDGE_PUBLIC_URL": "bridge.example.com"},
            "SFBRIDGE_PUBLIC_URL must be an http:// or https:// URL",
        ),
        (
            {"SFBRIDGE_PUBLIC_URL": "ftp://x.example.com"},
            "SFBRIDGE_PUBLIC_URL must be an http:// or https:// URL",
        ),
        (
            {"SFBRIDGE_PUBLIC_URL": "https://x.io/?a=1"},
            "SFBRIDGE_PUBLIC_URL must not contain a query string",
        ),
        ({"DATABASE_URL": "mysql://u:secretpw@h/db"}, "DATABASE_URL must be a postgresql:// URL"),
        ({"SFBRIDGE_DEMO": "maybe"}, "SFBRIDGE_DEMO must be one of auto, on, off, got 'maybe'."),
        (
            {"SFBRIDGE_LOG_LEVEL": "loud"},
            "SFBRIDGE_LOG_LEVEL must be one of debug, info, warning, error",
        ),
        (
            {"SFBRIDGE_SMTP_STARTTLS": "perhaps"},
            "SFBRIDGE_SMTP_STARTTLS must be true or false, got 'perhaps'.",
        ),
        (
            {"SFBRIDGE_SMTP_MAX_MESSAGE_SIZE": "huge"},
            "SFBRIDGE_SMTP_MAX_MESSAGE_SIZE must be a size between 1KB and 100MB",
        ),
        (
            {"SFBRIDGE_SMTP_MAX_MESSAGE_SIZE": "200MB"},
            "SFBRIDGE_SMTP_MAX_MESSAGE_SIZE must be a size",
        ),
        (
            {"SFBRIDGE_ALLOWED_LOGIN_HOSTS": "https://login.example.com"},
            "SFBRIDGE_ALLOWED_LOGIN_HOSTS must be a comma-separated list of host names",
        ),
        (
            {"SFBRIDGE_ALLOWED_LOGIN_HOSTS": "a b.com"},
            "SFBRIDGE_ALLOWED_LOGIN_HOSTS must be a comma-separated list",
        ),
        (
            {"SFBRIDGE_ENCRYPTION_KEY": "too-short"},
            "SFBRIDGE_ENCRYPTION_KEY must be 32 random bytes in URL-safe base64",
        ),
        (
            {"SFBRIDGE_PREVIOUS_ENCRYPTION_KEYS": f"{KEY},nope"},
            "SFBRIDGE_PREVIOUS_ENCRYPTION_KEYS must be 32 random bytes",
        ),
        ({"SFBRIDGE_SMTP_FROM": "not-an-address"}, "SFBRIDGE_SMTP_FROM must be an email address"),
        (
            {"SFBRIDGE_SMTP_PASSWORD": "pw"},
            "SFBRIDGE_SMTP_USERNAME must be set when SFBRIDGE_SMTP_PASSWORD is set.",
        ),
        (
            {"SFBRIDGE_SMTP_TLS": "true"},
            "SFBRIDGE_SMTP_TLS and SFBRIDGE_SMTP_STARTTLS cannot both be true",
        ),
    ],
)
def test_invalid_values_stop_with_one_sentence(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(environ)
    text = str(caught.value)
    assert text.startswith(message)
    assert text.endswith((".", "?")), "the message is a full sentence"
    assert "\n" not in text


def test_database_url_password_is_not_echoed_in_errors() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"DATABASE_URL": "mysql://u:secretpw@h/db"})
    assert "secretpw" not in str(caught.value)


@pytest.mark.parametrize(
    "settings",
    [
        load_settings(
            {
                "DATABASE_URL": "postgresql://u:hunter2@db/sfb",
                "SFBRIDGE_ENCRYPTION_KEY": KEY,
                "SFBRIDGE_SMTP_USERNAME": "mailer",
                "SFBRIDGE_SMTP_PASSWORD": "hunter2",
            }
        )
    ],
)
def test_repr_never_shows_secrets(settings: Settings) -> None:
    for text in (repr(settings), str(settings), repr(settings.smtp), f"{settings.database_url}"):
        assert "hunter2" not in text
        assert KEY not in text
    assert settings.smtp.password is not None
    assert settings.smtp.password.reveal() == "hunter2"


def test_public_url_for_joins_paths() -> None:
    settings = load_settings({"SFBRIDGE_PUBLIC_URL": "https://b.example.com/base/"})
    assert settings.public_url_for("/oauth/callback") == "https://b.example.com/base/oauth/callback"
    assert settings.public_url_for("hooks/x") == "https://b.example.com/base/hooks/x"


# --- SecretBox ---------------------------------------------------------------------------

BOX_KEY = bytes(range(32))


def test_box_round_trips_and_uses_fresh_nonces() -> None:
    box = secrets.SecretBox(BOX_KEY)
    first = box.encrypt("refresh-token-ü", context="ws1:refresh")
    second = box.encrypt("refresh-token-ü", context="ws1:refresh")
    assert first != second
    assert first.startswith(f"v1.{box.key_id}.")
    assert "refresh-token" not in first
    assert box.decrypt(first, context="ws1:refresh") == "refresh-token-ü"
    assert box.decrypt(second, context="ws1:refresh") == "refresh-token-ü"


def _flip_last_char(sealed: str) -> str:
    # Flip one bit of the last ciphertext byte (flipping the last base64 character could
    # only touch padding bits and leave the bytes unchanged).
    head, _, body = sealed.rpartition(".")
    raw = bytearray(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw[-1] ^= 0x01
    return f"{head}.{base64.urlsafe_b64encode(bytes(raw)).decode('ascii').rstrip('=')}"


@pytest.mark.parametrize(
    "mangle",
    [
        _flip_last_char,
        lambda s: s.replace("v1.", "v2.", 1),
        lambda s: s[: len(s) // 2],
        lambda s: s + "AAAA",
        lambda s: "garbage",
        lambda s: s.rsplit(".", 1)[0] + ".!!!!",
    ],
)
def test_box_detects_tampering(mangle: object) -> None:
    box = secrets.SecretBox(BOX_KEY)
    sealed = box.encrypt("client-secret", context="ws1:client_secret")
    assert callable(mangle)
    with pytest.raises(SecretTampered):
        box.decrypt(mangle(sealed), context="ws1:client_secret")


def test_box_refuses_a_value_moved_to_another_context() -> None:
    box = secrets.SecretBox(BOX_KEY)
    sealed = box.encrypt("token", context="workspace-a:access_token")
    with pytest.raises(SecretTampered):
        box.decrypt(sealed, context="workspace-b:access_token")


def test_box_rotation_opens_old_values_and_seals_with_new_key() -> None:
    old_box = secrets.SecretBox(BOX_KEY)
    old_value = old_box.encrypt("old")
    new_key = bytes(reversed(range(32)))
    rotated = secrets.SecretBox(new_key, previous=[BOX_KEY])
    assert rotated.decrypt(old_value) == "old"
    assert rotated.encrypt("new").split(".")[1] == secrets.key_id(new_key)
    without_old = secrets.SecretBox(new_key)
    with pytest.raises(UnknownSecretKey) as caught:
        without_old.decrypt(old_value)
    assert caught.value.key_id == secrets.key_id(BOX_KEY)


def test_box_repr_hides_key() -> None:
    box = secrets.SecretBox(BOX_KEY)
    assert BOX_KEY.hex() not in repr(box)
    assert secrets.encode_key(BOX_KEY) not in repr(box)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        (KEY, True),
        (KEY.rstrip("="), True),
        (base64.b64encode(bytes(range(200, 232))).decode(), True),  # standard alphabet
        (base64.urlsafe_b64encode(bytes(16)).decode(), False),
        ("", False),
        ("%%%", False),
    ],
)
def test_parse_key(text: str, ok: bool) -> None:
    if ok:
        assert len(secrets.parse_key(text)) == 32
    else:
        with pytest.raises(ConfigError):
            secrets.parse_key(text)
