"""Benchmark sfemu: simple reads and 200-record collection writes, no injected latency.

Reproduce with:

    uv run python bench/emulator.py                      # server in a subprocess (default)
    uv run python bench/emulator.py --reads 5000 --writes 100

It prints requests per second and p50/p99 latency for:

- ``GET /sobjects/Account/{id}`` over HTTP on loopback (client round trip),
- the same read dispatched in-process (``RestApi`` only: the emulator's own cost),
- ``POST /composite/sobjects`` with 200 Accounts per call.

Target (issue #2, point 14): median overhead per simple read <= 2 ms.
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import httpx

from sfemu.rest.wire import ApiRequest
from sfemu.runtime import Emulator


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def _report(name: str, samples: list[float], unit_count: int = 1) -> None:
    total = sum(samples)
    per_second = len(samples) / total if total else float("inf")
    print(
        f"{name:<46} n={len(samples):>6}  {per_second:>9.0f} req/s"
        f"  p50={statistics.median(samples) * 1000:7.3f} ms"
        f"  p99={_percentile(samples, 99) * 1000:7.3f} ms"
        + (f"  ({per_second * unit_count:,.0f} records/s)" if unit_count > 1 else "")
    )


def _time(count: int, call: Callable[[], Any]) -> list[float]:
    samples: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def _start_server() -> tuple[subprocess.Popen[str], dict[str, Any]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sfemu", "--port", "0", "--json"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, json.loads(process.stdout.readline())


def _token(info: dict[str, Any]) -> str:
    response = httpx.post(
        f"{info['login_url']}/services/oauth2/token",
        data={
            "grant_type": "password",
            "client_id": info["client_id"],
            "client_secret": info["client_secret"],
            "username": info["username"],
            "password": info["password"],
        },
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


def bench_http(reads: int, writes: int) -> None:
    process, info = _start_server()
    try:
        headers = {"Authorization": f"Bearer {_token(info)}"}
        api = f"{info['instance_url']}/services/data/v59.0"
        with httpx.Client(base_url=api, headers=headers) as client:
            account = client.post("/sobjects/Account/", json={"Name": "Bench"}).json()["id"]
            path = f"/sobjects/Account/{account}"
            _time(200, lambda: client.get(path))  # warm up
            _report("HTTP  GET sobjects/Account/{id}", _time(reads, lambda: client.get(path)))
            limits = _time(reads, lambda: client.get("/limits"))
            _report("HTTP  GET limits (floor: auth + counting)", limits)
            batch = {
                "allOrNone": False,
                "records": [
                    {"attributes": {"type": "Account"}, "Name": f"B{i}"} for i in range(200)
                ],
            }

            def write() -> None:
                response = client.post("/composite/sobjects", json=batch)
                response.raise_for_status()

            _report("HTTP  POST composite/sobjects (200 records)", _time(writes, write), 200)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)


def bench_in_process(reads: int, writes: int) -> None:
    from sfemu.rest.dispatch import RestApi

    emulator = Emulator.with_default_org()
    state = emulator.default_state
    user = state.credentials.user_id
    rest = RestApi()
    account = state.org.create("Account", {"Name": "Bench"}, user_id=user)

    def request(method: str, path: str, body: Any = None) -> ApiRequest:
        return ApiRequest(
            method=method,
            path=path,
            segments=tuple(path.split("/")),
            params={},
            headers={},
            body=body,
            version="59.0",
            state=state,
            user_id=user,
            base_url="http://127.0.0.1",
            dispatch=rest,
        )

    read = request("GET", f"sobjects/Account/{account}")
    _time(200, lambda: rest(read))
    _report("in-process GET sobjects/Account/{id}", _time(reads, lambda: rest(read)))
    batch = request(
        "POST",
        "composite/sobjects",
        {"records": [{"attributes": {"type": "Account"}, "Name": f"B{i}"} for i in range(200)]},
    )
    _report("in-process POST composite/sobjects (200)", _time(writes, lambda: rest(batch)), 200)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reads", type=int, default=3000)
    parser.add_argument("--writes", type=int, default=50)
    parser.add_argument("--skip-http", action="store_true")
    args = parser.parse_args()
    print(
        f"sfemu benchmark (python {sys.version.split()[0]}); command: uv run python bench/emulator.py"
        f" --reads {args.reads} --writes {args.writes}"
    )
    bench_in_process(args.reads, args.writes)
    if not args.skip_http:
        bench_http(args.reads, args.writes)


if __name__ == "__main__":
    main()
