"""`poller demo`: the whole product on this machine."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Annotated

import typer

from poller.cli.app import app, console, one_line_errors, run, whole_number
from poller.connections import INTERVAL_RULE, MAX_INTERVAL_SECONDS, MIN_INTERVAL_SECONDS
from poller.errors import ConfigError

INTERVAL = whole_number(MIN_INTERVAL_SECONDS, MAX_INTERVAL_SECONDS, INTERVAL_RULE)


@app.command()
@one_line_errors
def demo(
    once: Annotated[
        bool, typer.Option("--once", help="Run one poll through a real flow run, check it, exit.")
    ] = False,
    interval: Annotated[
        int,
        typer.Option(
            parser=INTERVAL,
            metavar="SECONDS",
            help=f"Between scheduled polls of the demo tenant: {INTERVAL_RULE}.",
        ),
    ] = 15,
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its databases.")] = Path(
        "data"
    ),
) -> None:
    """Bring up an Odoo simulator, a StockMaster-like receiver and a local Prefect server,
    then poll a demo tenant through its Prefect deployment."""
    if importlib.util.find_spec("odoo_sim") is None or importlib.util.find_spec("uvicorn") is None:
        raise ConfigError(
            "the demo needs the Odoo simulator, which this installation leaves out",
            hint="Run it from a clone with `make demo`, or install odoo-order-poller[sim]",
        )
    from deployments.demo import run_demo  # imports the simulator: only the demo does

    code = run(run_demo(once=once, interval=interval, data_dir=data_dir, console=console))
    raise typer.Exit(code)
