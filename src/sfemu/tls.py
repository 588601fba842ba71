"""A locally generated CA and server certificate, so https-only clients can talk to sfemu.

simple-salesforce builds every URL as ``https://`` (reference 0.1); this module makes a
throw-away CA with ``trustme``, issues a certificate for ``127.0.0.1``, ``::1`` and
``localhost``, and writes the PEM files a server and its clients need.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import trustme

DEFAULT_NAMES: tuple[str, ...] = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True, slots=True, kw_only=True)
class TlsFiles:
    """PEM files for one TLS setup.

    ``ca_path`` is what clients trust (``REQUESTS_CA_BUNDLE``, ``verify=``);
    ``cert_path`` and ``key_path`` are what the server presents.
    """

    ca_path: Path
    cert_path: Path
    key_path: Path


def generate(directory: Path, names: tuple[str, ...] = DEFAULT_NAMES) -> TlsFiles:
    """Create a fresh CA and a server certificate under ``directory``.

    Args:
        directory: where to write ``ca.pem``, ``server.pem`` and ``server.key``
            (created if missing).
        names: host names and IP addresses the certificate is valid for.

    Returns:
        The paths of the three PEM files.
    """
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="sfemu local CA")
    cert = ca.issue_cert(*names)
    files = TlsFiles(
        ca_path=directory / "ca.pem",
        cert_path=directory / "server.pem",
        key_path=directory / "server.key",
    )
    ca.cert_pem.write_to_path(str(files.ca_path))
    cert.cert_chain_pems[0].write_to_path(str(files.cert_path))
    for extra in cert.cert_chain_pems[1:]:
        extra.write_to_path(str(files.cert_path), append=True)
    cert.private_key_pem.write_to_path(str(files.key_path))
    files.key_path.chmod(0o600)
    return files
