"""The retry queue: `retries`, `retry`, `discard`. Nothing is ever deleted."""

from __future__ import annotations

import getpass
import json
import socket
from typing import Annotated, Any

import typer

from poller.cli.app import (
    MAX_ID,
    ROWS,
    app,
    connection_ref,
    console,
    err_console,
    one_line_errors,
    print_rows,
    usage_error,
    whole_number,
)
from poller.connections import shown
from poller.errors import UsageError

QUEUE_STATUSES = ["pending", "retrying", "dead", "quarantined"]
DELIVERY_ID = whole_number(1, MAX_ID, "a delivery id (a whole number from 1; see `poller retries`)")
QUEUE_COLUMNS = (
    "id",
    "connection",
    "order",
    "event",
    "status",
    "attempts",
    "age",
    "next_attempt",
    "last_error",
)


def _store() -> Any:
    from poller.runtime import default_store

    return default_store()


def _statuses(values: list[str] | None) -> list[str] | None:
    for value in values or []:
        if value not in (*QUEUE_STATUSES, "all"):
            raise typer.BadParameter(
                f"{shown(value)} is not a queue status: give {', '.join(QUEUE_STATUSES)} or all"
            )
    return values


def _age(row: Any, now: Any) -> str:
    seconds = int((now - row.created_at).total_seconds())
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if hours else f"{rest // 60}m{rest % 60:02d}s"


@app.command()
@one_line_errors
def retries(
    connection: Annotated[
        str | None, typer.Option("-c", "--connection", help="Name or id.", callback=connection_ref)
    ] = None,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status", callback=_statuses, help=f"One of {', '.join(QUEUE_STATUSES)}, all."
        ),
    ] = None,
    limit: Annotated[int, typer.Option(parser=ROWS, metavar="ROWS", help="Most rows shown.")] = 200,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Deliveries waiting, failing or dead-lettered: age, attempts, next try, last error."""
    store = _store()
    statuses = QUEUE_STATUSES if not status else None if "all" in status else status
    connection_id = store.states.find_connection(connection).id if connection else None
    names = {state.id: state.name for state in store.states.connections()}
    rows = store.outbox.deliveries(connection_id, statuses, limit=limit)
    now = store.clock()
    records = [
        {
            "id": r.id,
            "connection": names.get(r.connection_id),
            "order": r.order_name or r.order_id,
            "event": r.event_type,
            "status": r.status,
            "attempts": r.attempts,
            "age": _age(r, now),
            "next_attempt": f"{r.next_attempt_at:%Y-%m-%d %H:%M:%S}Z"
            if r.next_attempt_at
            else None,
            "last_error": r.last_error,
            "webhook_id": r.event_id,
        }
        for r in rows
    ]
    if as_json:
        print(json.dumps(records, indent=2))
        return
    if not records:
        err_console.print("The queue is empty.")
        return
    print_rows("Deliveries", records, QUEUE_COLUMNS)


@app.command()
@one_line_errors
def retry(
    ids: Annotated[
        list[int] | None,
        typer.Argument(
            parser=DELIVERY_ID, metavar="IDS", help="Delivery ids (see `poller retries`)."
        ),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Every failed and dead delivery.")] = False,
    connection: Annotated[
        str | None, typer.Option("-c", "--connection", help="Name or id.", callback=connection_ref)
    ] = None,
) -> None:
    """Send failed or dead-lettered deliveries again with the next poll of their connection."""
    if ids and all_:
        usage_error("name delivery ids or pass --all, not both")
    if not ids and not all_:
        raise UsageError("name delivery ids or pass --all", hint="See `poller retries`")
    from poller.admin import RETRYABLE, check_deliveries

    store = _store()
    connection_id = store.states.find_connection(connection).id if connection else None
    if ids:
        check_deliveries(store, ids, RETRYABLE, "retried", connection_id)
    count = store.outbox.retry_now(None if all_ else ids, connection_id)
    console.print(
        f"{count} deliver{'y' if count == 1 else 'ies'} due now: they go out with the next poll "
        "(or at once with `prefect deployment run 'poll-connection/<name>'`)."
    )


@app.command()
@one_line_errors
def discard(
    delivery_id: Annotated[
        int,
        typer.Argument(
            parser=DELIVERY_ID, metavar="ID", help="Delivery id (see `poller retries`)."
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
) -> None:
    """Give up on one delivery. It stays in the database, marked discarded, with who and when."""
    from poller.admin import DISCARDABLE, check_deliveries

    store = _store()
    check_deliveries(store, [delivery_id], DISCARDABLE, "discarded")
    if not yes:
        typer.confirm(f"Discard delivery {delivery_id}? StockMaster will never get it", abort=True)
    who = f"{getpass.getuser()}@{socket.gethostname()}"
    row = store.outbox.discard(delivery_id, who)
    console.print(f"Discarded delivery {row.id} ({row.order_name} {row.event_type}) as {who}.")
