"""Foundation benchmark: `sfbridge serve` cold start to ready, and webhook intake throughput.

Reproduce:  uv run python bench/serve.py [--requests 5000] [--concurrency 64] [--rounds 3]

Cold start: a fresh data directory (so Postgres is initialised too) and a warm one (restart),
measured from process start to the readiness line.

Webhook: POSTs of the reference Apex request (`?caseId=...`, JSON type, empty body) to the demo
workspace's webhook URL. Each is stored durably (event row + job in one committed transaction)
before its 202. Two figures, each over ``--rounds`` runs (best and spread):

- intake only: ``serve --no-worker --no-mail``; the process does nothing but accept webhooks;
- with worker: plain ``serve``; the job worker handles the events (a Salesforce call each, to
  the in-process emulator) while they arrive. After the load, the time until every job is
  done gives the worker's own rate.

After each run the stored rows and queued jobs are counted in Postgres and must equal the
number of 202s. The load generator is a minimal keep-alive HTTP/1.1 client on raw asyncio
streams (one connection per concurrent sender), so it takes little of the 2 cores from the
server it measures.
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
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import psycopg

SFBRIDGE = str(Path(sys.executable).parent / "sfbridge")
TASK_NAME = "sfbridge:handle_webhook_event"


@dataclass(frozen=True, kw_only=True, slots=True)
class Run:
    """One measured burst of webhook calls."""

    rate: float
    p50_ms: float
    p99_ms: float
    stored: int
    jobs: int
    drain_s: float | None = None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(data_dir: Path, port: int, *args: str) -> tuple[subprocess.Popen[str], float, str]:
    env = {
        **os.environ,
        "SFBRIDGE_DATA_DIR": str(data_dir),
        "SFBRIDGE_PORT": str(port),
        "SFBRIDGE_SMTP_LISTEN_PORT": str(free_port()),
        "SFBRIDGE_LOG_LEVEL": "WARNING",
    }
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [SFBRIDGE, "serve", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
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


def database_url(data_dir: Path) -> str:
    """The embedded server's database, read from its ``postmaster.pid`` (socket dir, port)."""
    lines = (data_dir / "pg" / "postmaster.pid").read_text().splitlines()
    return f"host={lines[4]} port={lines[3]} dbname=sfbridge user=postgres"


def counts(data_dir: Path) -> tuple[int, int, int]:
    """(events stored, jobs queued in total, jobs not finished yet)."""
    with psycopg.connect(database_url(data_dir)) as conn:
        events = conn.execute("SELECT count(*) FROM webhook_events").fetchone()
        jobs = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE status IN ('todo', 'doing'))"
            " FROM procrastinate_jobs WHERE task_name = %s",
            (TASK_NAME,),
        ).fetchone()
    assert events is not None and jobs is not None
    return int(events[0]), int(jobs[0]), int(jobs[1])


async def hammer(url: str, total: int, concurrency: int, first: int = 0) -> list[float]:
    """Send ``total`` webhook POSTs over ``concurrency`` keep-alive connections; latencies."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: list[float] = []
    numbers = iter(range(first, first + total))

    async def sender() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        writer.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            for i in numbers:
                request = (
                    f"POST {parts.path}?caseId=5005g00000Ab{i:06d} HTTP/1.1\r\n"
                    f"Host: {host}:{port}\r\nContent-Type: application/json\r\n"
                    "Content-Length: 0\r\n\r\n"
                ).encode()
                t = time.perf_counter()
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                body = await reader.readexactly(length)
                latencies.append(time.perf_counter() - t)
                status = int(head.split(b" ", 2)[1])
                if status != 202:
                    raise SystemExit(f"webhook answered {status}: {body!r}")
        finally:
            writer.close()

    await asyncio.gather(*(sender() for _ in range(concurrency)))
    return latencies


def wait_drained(data_dir: Path, timeout: float) -> float | None:
    """Seconds until no webhook job is todo/doing (None when ``timeout`` passes first)."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if counts(data_dir)[2] == 0:
            return time.perf_counter() - t0
        time.sleep(0.2)
    return None


def measure(
    data: Path, hook: str, args: argparse.Namespace, *, sent_before: int, worker: bool
) -> Run:
    t0 = time.perf_counter()
    lat = asyncio.run(hammer(hook, args.requests, args.concurrency, first=sent_before))
    took = time.perf_counter() - t0
    drain = wait_drained(data, timeout=600) if worker else None
    stored, jobs, _ = counts(data)
    expected = sent_before + args.requests
    if stored != expected or jobs != expected:
        raise SystemExit(f"sent {expected} webhooks, stored {stored} events and {jobs} jobs")
    lat.sort()
    return Run(
        rate=args.requests / took,
        p50_ms=statistics.median(lat) * 1000,
        p99_ms=lat[int(len(lat) * 0.99) - 1] * 1000,
        stored=stored,
        jobs=jobs,
        drain_s=None if drain is None else took + drain,
    )


def webhook_url(port: int, key: str) -> str:
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {key}"}
    ws = httpx.get(f"{base}/api/v1/workspaces", headers=auth).json()[0]["id"]
    url = httpx.get(f"{base}/api/v1/workspaces/{ws}/connection", headers=auth).json()
    return str(url["webhook_url"])


def series(data: Path, port: int, key: str, args: argparse.Namespace, worker: bool) -> list[Run]:
    """Run ``--rounds`` bursts against one server (intake only, or with the worker)."""
    extra = () if worker else ("--no-worker", "--no-mail")
    proc, _, _ = start(data, port, *extra)
    runs = []
    try:
        hook = webhook_url(port, key)
        sent = counts(data)[0]
        asyncio.run(hammer(hook, 200, 16, first=sent))  # warm-up
        if worker:
            wait_drained(data, timeout=120)
        sent += 200
        for _ in range(args.rounds):
            runs.append(measure(data, hook, args, sent_before=sent, worker=worker))
            sent += args.requests
    finally:
        stop(proc)
    return runs


def describe(runs: list[Run]) -> str:
    best = max(runs, key=lambda r: r.rate)
    rates = sorted(r.rate for r in runs)
    text = (
        f"best {best.rate:.0f} req/s (p50 {best.p50_ms:.1f} ms, p99 {best.p99_ms:.1f} ms); "
        f"all rounds {', '.join(f'{r:.0f}' for r in rates)} req/s"
    )
    drains = [r.drain_s for r in runs if r.drain_s is not None]
    if drains:
        text += f"; all jobs done after {min(drains):.1f}-{max(drains):.1f} s"
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--only", choices=("intake", "worker"), help="Measure one of the two figures only."
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        port = free_port()
        proc, cold, out = start(data, port)
        stop(proc)
        proc, warm, _ = start(data, port)
        stop(proc)
        key = next(w for w in out.split() if w.startswith("sfb_"))
        intake = series(data, port, key, args, worker=False) if args.only != "worker" else []
        worker = series(data, port, key, args, worker=True) if args.only != "intake" else []
    print(f"sfbridge serve benchmark ({os.cpu_count()} cores; embedded Postgres)")
    print(f"  cold start to ready, fresh data dir (initdb included): {cold:.2f} s")
    print(f"  cold start to ready, existing data dir:               {warm:.2f} s")
    print(
        f"  webhook, {args.requests} requests x {args.rounds} rounds, concurrency "
        f"{args.concurrency}, each stored + job queued before its 202 (rows counted):"
    )
    if intake:
        print(f"    intake only (serve --no-worker): {describe(intake)}")
    if worker:
        print(f"    with worker (serve):             {describe(worker)}")
    print("  reproduce: uv run python bench/serve.py --requests 5000 --concurrency 64 --rounds 3")


if __name__ == "__main__":
    main()
