"""A poller process for the crash tests: polls one connection without Prefect until a poll
finds nothing new and nothing waits in the outbox. Configured by environment variables
(POLLER_* as in production, plus CRASH_CONFIG: the ConnectionConfig as JSON)."""

from __future__ import annotations

import asyncio
import os
import sys

from poller.connections import ConnectionConfig
from poller.cycle import run_cycle
from poller.runtime import open_poller


async def main() -> int:
    config = ConnectionConfig.model_validate_json(os.environ["CRASH_CONFIG"])
    while True:
        poller = open_poller(config)
        try:
            report = await run_cycle(poller, poller)
        finally:
            await poller.aclose()
        print(report.summary(), flush=True)
        if report.status == "skipped":  # a killed predecessor's lease has not expired yet
            await asyncio.sleep(0.5)
            continue
        waiting = poller.store.outbox.deliveries(statuses=["pending", "retrying"])
        if report.status == "ok" and report.queued == 0 and not waiting:
            return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
