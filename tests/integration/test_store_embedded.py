"""Embedded Postgres, key file and config file: real processes and real files."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from sfbridge import secrets
from sfbridge.errors import ConfigError
from sfbridge.settings import Settings, load_settings
from sfbridge.store import embedded, migrate, workspaces
from sfbridge.store.db import Database


@pytest.mark.slow
async def test_embedded_postgres_keeps_data_across_restarts(tmp_path: Path) -> None:
    pgdata = tmp_path / "data" / "pg"
    server = await embedded.start(pgdata)
    assert "sfbridge" in server.url and "hunter" not in repr(server)
    db = await Database.connect(server.url)
    await migrate.migrate(db)
    async with db.transaction() as tx:
        created = await workspaces.create(tx, name="Survives restart")
    await db.close()
    server.stop()

    again = await embedded.start(pgdata)
    db = await Database.connect(again.url)
    try:
        assert (await migrate.migrate(db)).applied == ()
        async with db.transaction() as tx:
            assert await workspaces.get(tx, created.id) == created
    finally:
        await db.close()
        again.stop()


def test_key_file_is_created_0600_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "data" / "secret.key"
    key = secrets.load_or_create_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secrets.load_or_create_key(path) == key


def test_key_file_with_loose_permissions_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text(secrets.encode_key(bytes(32)))
    os.chmod(path, 0o644)
    assert secrets.load_or_create_key(path) == bytes(32)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_corrupt_key_file_stops_with_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "secret.key"
    path.write_text("not a key")
    with pytest.raises(ConfigError, match=r"secret\.key must be 32 random bytes"):
        secrets.load_or_create_key(path)


def test_box_for_settings_prefers_the_configured_key(tmp_path: Path) -> None:
    configured = base64.urlsafe_b64encode(bytes(range(32))).decode()
    from_env = secrets.box_for(
        load_settings({"SFBRIDGE_ENCRYPTION_KEY": configured, "SFBRIDGE_DATA_DIR": str(tmp_path)})
    )
    assert from_env.key_id == secrets.key_id(bytes(range(32)))
    assert not (tmp_path / "secret.key").exists()
    generated = secrets.box_for(Settings(data_dir=tmp_path))
    assert (tmp_path / "secret.key").exists()
    assert secrets.box_for(Settings(data_dir=tmp_path)).key_id == generated.key_id


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "sfbridge.env",
            "# comment\n\nexport SFBRIDGE_PORT=9001\nSFBRIDGE_DEMO='off'\nSFBRIDGE_PUBLIC_URL=\"https://b.example.com\"\n",
        ),
        (
            "sfbridge.toml",
            'SFBRIDGE_PORT = 9001\nSFBRIDGE_DEMO = "off"\nSFBRIDGE_PUBLIC_URL = "https://b.example.com"\n',
        ),
    ],
)
def test_config_file_values_apply_and_environment_wins(
    tmp_path: Path, name: str, text: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    from_file = load_settings({"SFBRIDGE_CONFIG": str(path)})
    assert from_file.port == 9001 and from_file.demo.value == "off"
    assert from_file.public_url == "https://b.example.com"
    overridden = load_settings({"SFBRIDGE_CONFIG": str(path), "SFBRIDGE_PORT": "9002"})
    assert overridden.port == 9002


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "a.env",
            "SFBRIDGE_PROT=1\n",
            "unknown setting 'SFBRIDGE_PROT'; did you mean SFBRIDGE_PORT?",
        ),
        ("b.env", "just words\n", "Line 1 of the config file"),
        ("c.toml", "SFBRIDGE_PORT = [\n", "is not valid TOML"),
        ("d.toml", "[section]\nx = 1\n", "to a table"),
        (
            "e.env",
            "SFBRIDGE_PORT=abc\n",
            "SFBRIDGE_PORT must be a number between 1 and 65535, got 'abc'.",
        ),
    ],
)
def test_bad_config_files_stop_with_a_clear_error(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_settings({"SFBRIDGE_CONFIG": str(path)})
    assert message in str(caught.value)


def test_missing_config_file_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_settings({"SFBRIDGE_CONFIG": str(tmp_path / "nope.env")})
