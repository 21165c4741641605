"""`poller run` and `poller backfill`: polling from this machine."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from poller.cli.app import (
    LOCAL_API,
    app,
    connection_ref,
    console,
    one_line_errors,
    run,
    use_prefect_api,
    whole_number,
)
from poller.cli.connections import SINCE, parse_since

PORT = whole_number(1, 65535, "a TCP port from 1 to 65535")


def _healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@app.command("run")
@one_line_errors
def run_command(
    data_dir: Annotated[
        Path,
        typer.Option(
            help="Where a local Prefect server keeps its data, and the runs' logging config."
        ),
    ] = Path("data"),
    port: Annotated[
        int,
        typer.Option(parser=PORT, metavar="PORT", help="Port of the local Prefect server and UI."),
    ] = 4200,
    fleet: Annotated[
        bool | None,
        typer.Option(
            "--fleet/--per-connection",
            help="Force fleet mode on or off (default: "
            "fleet mode above POLLER_FLEET_THRESHOLD connections).",
        ),
    ] = None,
) -> None:
    """Serve every enabled connection's deployment from this process. Without PREFECT_API_URL
    a local Prefect server with its UI starts on 127.0.0.1 (schedules need a real server)."""
    from deployments.heartbeat import use_heartbeats
    from deployments.run_logging import use_quiet_logging

    # before Prefect reads its settings: this process and the runs it starts inherit them
    use_heartbeats()
    use_quiet_logging(data_dir)
    server = None
    if not os.environ.get("PREFECT_API_URL"):
        local = LOCAL_API if port == 4200 else f"http://127.0.0.1:{port}/api"
        if not _healthy(local):
            from deployments.local_server import LocalPrefectServer

            console.print(
                f"Starting a local Prefect server on 127.0.0.1:{port} ({data_dir}/prefect)…"
            )
            server = LocalPrefectServer(data_dir / "prefect", port=port).start()
        os.environ["PREFECT_API_URL"] = local
    api = use_prefect_api()
    console.print(
        f"Prefect UI: [bold]{api.removesuffix('/api')}[/]   "
        f"(export PREFECT_API_URL={api} for `prefect` and other `poller` commands)"
    )
    try:
        from deployments.serve import enabled_count, run_server
        from deployments.stopping import run_until_signalled
        from poller.settings import get_settings

        settings = get_settings()
        if fleet is None:
            fleet = run(enabled_count()) > settings.fleet_threshold
        if fleet:
            from deployments.fleet import run_fleet

            run_until_signalled(
                lambda stop: run_fleet(
                    console, settings, stop, manual_runs=settings.fleet_manual_runs
                )
            )
        else:
            run_until_signalled(lambda stop: run_server(console, stop))
    finally:
        if server is not None:
            server.stop()


@app.command()
@one_line_errors
def backfill(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="Connection name or id.", callback=connection_ref)
    ],
    since: Annotated[
        str | None,
        typer.Option(
            callback=SINCE,
            help="Replay orders written since this date, up to now; "
            "without it, resume an interrupted backfill.",
        ),
    ] = None,
) -> None:
    """Replay a connection's history in pages, with a progress bar; resumable after an
    interruption (each queued page is a checkpoint). Orders already delivered are not resent."""
    use_prefect_api()
    from poller.backfill import run_backfill

    since_at: datetime | None = parse_since(since) if since else None
    report = run(run_backfill(name, since_at, _progress))
    console.print(report.summary())
    if report.status == "failed":
        raise typer.Exit(1)


def _progress(total: int) -> Any:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    progress = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    return progress, progress.add_task("orders", total=total)
