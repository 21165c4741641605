"""The heartbeat period of the flow runs the poller starts. No Prefect import here: the CLI
sets it before Prefect loads its settings, which it reads once."""

from __future__ import annotations

import os

#: Prefect's shortest period (its default is 180 s); the zombie automation waits 3 of them
DEFAULT_HEARTBEAT_SECONDS = 30


def use_heartbeats() -> int:
    """PREFECT_FLOWS_HEARTBEAT_FREQUENCY when the operator set it, else 30 s, set in the
    environment so that flow-run processes inherit it."""
    return int(
        os.environ.setdefault("PREFECT_FLOWS_HEARTBEAT_FREQUENCY", str(DEFAULT_HEARTBEAT_SECONDS))
    )
