"""Benchmark: email cases against sfemu with 100 ms of latency per Salesforce call.

Measures, over N conversations:

* email received -> Case visible: from the inbound mail being accepted (HTTP intake; the
  workspace hands off every email) to the Case existing in sfemu with its transcript;
* webhook -> reply handed to SMTP: from the webhook being accepted to the SMTP relay (a
  real SMTP sink on loopback) holding the threaded reply;
* Salesforce API calls per handoff (sfemu's counters).

Reproduce::

    uv run python bench/email_cases.py            # N=20, 100 ms latency
    uv run python bench/email_cases.py --n 50 --latency-ms 100

Everything runs on this machine: embedded Postgres, sfemu and the SMTP sink on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from sfbridge import jobs
from sfbridge.mail.outbound import SmtpMailer
from sfbridge.mail.sink import SmtpSink
from sfbridge.services.email import sessions as email_api
from sfbridge.services.email.runtime import EmailRuntime, SmtpTransport
from sfbridge.services.email.settings import EmailSettings
from sfbridge.services.email.tasks import register
from sfbridge.store import webhooks
from sfbridge.store.db import Database
from sfbridge.testing.email import TEST_BOX, connect_workspace, salesforce_access
from sfbridge.testing.postgres import TestPostgres
from sfemu.testing import EmulatedSalesforce, emulated_salesforce

BOX = TEST_BOX
TOKEN = "whk_bench_0123456789abcdef0123"
SUPPORT = "support@bench.test"


def percentile(values: list[float], pct: float) -> float:
    """The nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, round(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def mail(index: int) -> bytes:
    return (
        f"From: Customer {index} <customer{index}@bench.test>\r\n"
        f"To: {SUPPORT}\r\n"
        f"Subject: Order {index} never arrived\r\n"
        f"Message-ID: <bench.{index}.{time.time_ns()}@bench.test>\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        f"Hello, my order {index} never arrived. Please have a person look at it.\r\n"
    ).encode()


async def wait(probe: Any, within: float = 30.0) -> Any:
    deadline = time.perf_counter() + within
    while True:
        value = await probe()
        if value:
            return value
        if time.perf_counter() > deadline:
            raise TimeoutError("the pipeline did not finish in time")
        await asyncio.sleep(0.005)


async def run(n: int, latency_ms: float) -> int:
    with tempfile.TemporaryDirectory(prefix="sfbridge-bench-") as tmp:
        cluster = await TestPostgres.start(Path(tmp))
        try:
            url = await cluster.clone()
            db = await Database.connect(url, max_size=10)
            try:
                return await measure(db, n, latency_ms)
            finally:
                await db.close()
        finally:
            cluster.stop()


async def measure(db: Database, n: int, latency_ms: float) -> int:
    with emulated_salesforce() as sf:
        async with SmtpSink() as sink, httpx.AsyncClient(timeout=30) as http:
            ws = await connect_workspace(
                db,
                sf,
                box=BOX,
                name="Bench",
                support_address=SUPPORT,
                webhook_token=TOKEN,
                settings=EmailSettings(handoff_every_email=True),
            )
            app = jobs.create_job_app(db, registrars=[register])
            access = salesforce_access(db, BOX, http)
            rt = EmailRuntime(
                db=db,
                jobs=app,
                access=access,
                transport=SmtpTransport(SmtpMailer("127.0.0.1", sink.port, starttls=False)),
            )
            rep = sf.control("POST", "/users", {"username": "rep@bench.test", "last_name": "Rep"})
            # warm the describe cache and the connection pool (one handoff, not measured)
            async with app.open_async(pool=db.pool):
                worker = asyncio.create_task(
                    app.run_worker_async(
                        **jobs.worker_options(
                            db,
                            context={"email_runtime": rt},
                            install_signal_handlers=False,
                            concurrency=4,
                            fetch_job_polling_interval=0.01,
                        )
                    )
                )
                try:
                    await one(db, rt, ws, sf, sink, rep["id"], -1)
                    sf.control("PUT", "/latency", {"fixed_ms": latency_ms})
                    sf.control("DELETE", "/counters")
                    to_case: list[float] = []
                    to_smtp: list[float] = []
                    for index in range(n):
                        a, b = await one(db, rt, ws, sf, sink, rep["id"], index)
                        to_case.append(a)
                        to_smtp.append(b)
                    counters = sf.control("GET", "/counters")
                finally:
                    worker.cancel()
                    await asyncio.gather(worker, return_exceptions=True)
    # sfemu counts every API call, including the webhook syncs' SOQL (one per reply)
    total = int(counters.get("total", 0))
    per_handoff = (total - n) / n
    print(f"email cases benchmark: N={n}, sfemu latency {latency_ms:g} ms per call")
    print(
        f"  email received -> Case visible : p50 {statistics.median(to_case) * 1000:7.1f} ms"
        f"   p99 {percentile(to_case, 99) * 1000:7.1f} ms"
    )
    print(
        f"  webhook -> reply handed to SMTP: p50 {statistics.median(to_smtp) * 1000:7.1f} ms"
        f"   p99 {percentile(to_smtp, 99) * 1000:7.1f} ms"
    )
    print(
        f"  Salesforce API calls per handoff: {per_handoff:.2f} (total {total} for {n} "
        f"handoffs + {n} webhook syncs; counters {counters.get('counters')})"
    )
    print(f"  reproduce: uv run python bench/email_cases.py --n {n} --latency-ms {latency_ms:g}")
    return 0


async def one(
    db: Database,
    rt: EmailRuntime,
    ws: str,
    sf: EmulatedSalesforce,
    sink: SmtpSink,
    rep_id: str,
    index: int,
) -> tuple[float, float]:
    started = time.perf_counter()
    inbound_id, _ = await email_api.accept_http_mail(rt, ws, mail(index))

    async def case() -> str | None:
        async with db.transaction() as tx:
            row = await tx.fetch_one(
                "email_inbound_get", {"workspace_id": ws, "inbound_id": inbound_id}
            )
        if row is None or row["session_id"] is None:
            return None
        detail = await email_api.get_session(db, ws, row["session_id"])
        return detail.session.case_id

    case_id = await wait(case)
    to_case = time.perf_counter() - started
    sf.control(
        "POST",
        "/records/CaseComment",
        {
            "ParentId": case_id,
            "CommentBody": f"Reply {index}",
            "IsPublished": True,
            "_user_id": rep_id,
        },
    )
    before = len(sink.messages)
    started = time.perf_counter()
    await webhooks.accept(
        db,
        token=TOKEN,
        query={"caseId": case_id, "event": "comment"},
        body="",
        headers={"content-type": "application/json"},
    )

    async def delivered() -> bool:
        return len(sink.messages) > before

    await wait(delivered)
    return to_case, time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--n", type=int, default=20, help="conversations to measure")
    parser.add_argument("--latency-ms", type=float, default=100.0, help="sfemu latency per call")
    args = parser.parse_args(argv)
    return asyncio.run(run(args.n, args.latency_ms))


if __name__ == "__main__":
    sys.exit(main())
