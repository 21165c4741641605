"""One process's schema upgrade, for the migration race test.

`python -m tests.support.migrate_once URL READY GO`: imports and builds the engine, creates
the file READY, waits until the file GO exists, then runs `upgrade` once. Two of these behind
the same GO file start their upgrades within a few milliseconds of each other.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from poller.state.engine import create_db_engine, upgrade

#: give up waiting for GO after this long, so a broken test cannot leave processes behind
GO_TIMEOUT_SECONDS = 60.0


def wait_for(path: Path, timeout: float) -> None:
    """Poll for `path` (a 2 ms step keeps the two processes' starts close together)."""
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout} s")
        time.sleep(0.002)


def main(url: str, ready: Path, go: Path) -> None:
    engine = create_db_engine(url)
    try:
        ready.touch()
        wait_for(go, GO_TIMEOUT_SECONDS)
        upgrade(engine)
    finally:
        engine.dispose()


if __name__ == "__main__":
    main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]))
