"""Prometheus metrics, rendered on request from the database and the process's counters.

Gauges are read from the database at scrape time (jobs by queue and status, connections by
status), so every ``serve`` and ``worker`` process reports the same shared truth; counters of
Salesforce calls and the API usage the governor saw are per process.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Gauge, generate_latest

from sfbridge.deps import Deps
from sfbridge.services import tracing


async def render(deps: Deps) -> str:
    registry = CollectorRegistry()
    jobs = Gauge(
        "sfbridge_jobs", "Jobs by queue and status", ["queue", "status"], registry=registry
    )
    conns = Gauge(
        "sfbridge_connections", "Salesforce connections by status", ["status"], registry=registry
    )
    usage = Gauge(
        "sfbridge_salesforce_api_usage_ratio",
        "Daily API usage seen in Sforce-Limit-Info, per org (0..1)",
        ["org"],
        registry=registry,
    )
    calls = Gauge(
        "sfbridge_salesforce_calls",
        "Salesforce calls made by this process, by org and HTTP status (0: no response)",
        ["org", "status"],
        registry=registry,
    )
    async with deps.db.transaction() as tx:
        for row in await tx.fetch_all("job_counts"):
            jobs.labels(row["queue_name"], row["status"]).set(row["count"])
        for row in await tx.fetch_all("metrics_connection_counts"):
            conns.labels(row["status"]).set(row["n"])
    for org, ratio in deps.access.governor.usage_ratios().items():
        usage.labels(org).set(ratio)
    for (org, status), n in tracing.RECORDER.counts.items():
        calls.labels(org, str(status)).set(n)
    return generate_latest(registry).decode("utf-8")
