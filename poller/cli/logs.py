"""`poller logs`: what each poll did, from the sync log."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from poller.cli.app import ROWS, app, connection_ref, err_console, one_line_errors, print_rows

COLUMNS = (
    "started",
    "connection",
    "status",
    "ms",
    "seen",
    "queued",
    "delivered",
    "failed",
    "dead",
    "quarantined",
    "calls",
    "error",
    "worker",
    "flow_run",
)


@app.command()
@one_line_errors
def logs(
    connection: Annotated[
        str | None, typer.Option("-c", "--connection", help="Name or id.", callback=connection_ref)
    ] = None,
    limit: Annotated[
        int, typer.Option(parser=ROWS, metavar="ROWS", help="Most recent polls shown.")
    ] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """The latest polls: counts, duration, errors and their Prefect flow-run ids."""
    from poller.runtime import default_store

    store = default_store()
    connection_id = store.states.find_connection(connection).id if connection else None
    names = {state.id: state.name for state in store.states.connections()}
    rows = [
        {
            "started": f"{log.started_at:%Y-%m-%d %H:%M:%S}Z",
            "connection": names.get(log.connection_id),
            "status": log.status,
            "ms": log.duration_ms,
            "seen": log.orders_seen,
            "queued": log.queued,
            "delivered": log.delivered,
            "failed": log.failed,
            "dead": log.dead,
            "quarantined": log.quarantined,
            "calls": log.odoo_calls,
            "error": log.error,
            "worker": log.worker,
            "flow_run": log.flow_run_id,
        }
        for log in store.logs.recent(connection_id, limit=limit)
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        err_console.print("No polls recorded yet.")
        return
    print_rows("Polls, newest first", rows, COLUMNS)
