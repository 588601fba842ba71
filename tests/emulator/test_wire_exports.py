"""The public surface of sfemu is curated: this list changes only on purpose."""

from __future__ import annotations

import subprocess
import sys

import sfemu


def test_exported_names() -> None:
    assert sorted(sfemu.__all__) == [
        "ApiError",
        "Credentials",
        "EmulatedSalesforce",
        "Emulator",
        "Org",
        "OrgState",
        "RunningServer",
        "create_app",
        "emulated_salesforce",
        "serve_in_thread",
    ]
    for name in sfemu.__all__:
        assert getattr(sfemu, name) is not None


def test_sfemu_imports_nothing_from_sfbridge() -> None:
    code = "import sys, sfemu, sfemu.__main__; print(any(m.startswith('sfbridge') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
