"""`python -m benchmarks.flow_child CONNECTION`: one real `poll_connection` flow run, alone in
this process, so that the parent can read this process's own peak RSS and CPU time.

Configured by the environment as in production: PREFECT_API_URL, POLLER_ENCRYPTION_KEY,
POLLER_DATABASE_URL. Prints its measurements on a `BENCH-RESULT` line.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import Any

from benchmarks.harness import (
    emit_result,
    own_cpu_seconds,
    own_peak_rss_mb,
    report_peak_at_exit,
)


def main(argv: list[str]) -> int:
    connection = argv[1]
    report_peak_at_exit()
    started = time.perf_counter()
    from flows.poll_connection import poll_connection

    imported = time.perf_counter()
    cpu_before = own_cpu_seconds()
    rss_before = own_peak_rss_mb()
    state: Any = asyncio.run(poll_connection(connection, return_state=True))  # type: ignore[call-overload]
    finished = time.perf_counter()
    emit_result(
        {
            "state": state.name,
            "message": state.message,
            "import_seconds": imported - started,
            "flow_seconds": finished - imported,
            "flow_cpu_seconds": own_cpu_seconds() - cpu_before,
            "peak_rss_before_flow_mb": rss_before,
            "peak_rss_mb": own_peak_rss_mb(),
        }
    )
    return 0 if state.is_completed() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
