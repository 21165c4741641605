"""One process asking for the half-open probe, for the breaker race test.

`python -m tests.support.probe_breaker FOLDER NAME ROUNDS`, configured as production is
(POLLER_DATABASE_URL, POLLER_ENCRYPTION_KEY) plus PROBE_CONFIG, the ConnectionConfig as JSON.
Builds the real poller with `open_poller`; then for each round R: creates FOLDER/NAME.ready.R,
spins until FOLDER/go.R exists, calls `check_breaker()` once and writes its Admission as
JSON to FOLDER/NAME.result.R. Two of these behind the same go file read the breaker within
microseconds of each other, so both usually decide on the same row version.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import time
from pathlib import Path

from poller.connections import ConnectionConfig
from poller.runtime import open_poller

#: give up waiting for GO after this long, so a broken test cannot leave processes behind
GO_TIMEOUT_SECONDS = 60.0


def spin_until(path: Path, timeout: float) -> None:
    """Wait for `path` without sleeping: a sleep's granularity would let one process read
    and write the breaker before the other has woken up."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout} s")


async def main(folder: Path, name: str, rounds: int) -> None:
    config = ConnectionConfig.model_validate_json(os.environ["PROBE_CONFIG"])
    poller = open_poller(config)
    try:
        for round_ in range(rounds):
            poller.begin_poll()
            (folder / f"{name}.ready.{round_}").touch()
            spin_until(folder / f"go.{round_}", GO_TIMEOUT_SECONDS)
            admission = await poller.check_breaker()
            partial = folder / f"{name}.partial.{round_}"
            partial.write_text(json.dumps(dataclasses.asdict(admission)))
            partial.rename(folder / f"{name}.result.{round_}")  # never read half written
    finally:
        await poller.aclose()
        poller.store.engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])))
