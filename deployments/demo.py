"""`poller demo`: everything on this machine, wired as in production.

An Odoo simulator and a StockMaster-like receiver on loopback, a local Prefect server with
its UI (or the one PREFECT_API_URL names), a demo connection saved as a block and served as
its deployment, and polls that run as real flow runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import shutil
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from odoo_sim.expectations import contract_problems, seeded_confirmed
from odoo_sim.receiver import Receiver
from odoo_sim.server import BackgroundServer
from poller.clock import utcnow
from poller.crypto import ENV_VAR, SecretBox, generate_key

if TYPE_CHECKING:
    from odoo_sim.odoo import OdooSim

DEMO = "demo"
DEMO_DATABASE = "acme"
DEMO_LOGIN = "admin"


def _ensure_key(console: Console) -> None:
    if not os.environ.get(ENV_VAR):
        os.environ[ENV_VAR] = generate_key()
        console.print(
            f"[yellow]{ENV_VAR} is not set: generated a throwaway key for this demo. "
            "Set your own to keep connections across runs.[/]"
        )


def _prepare_database(data_dir: Path) -> Path:
    """A fresh folder per demo, `<data dir>/demo`, for its poller database and its Prefect
    server: every seeded order is new to it, and a later `poller run` (which keeps its own
    under `<data dir>/prefect`) never sees the demo's throwaway connection."""
    demo_dir = (data_dir / "demo").resolve()
    shutil.rmtree(demo_dir, ignore_errors=True)
    demo_dir.mkdir(parents=True)
    os.environ["POLLER_DATABASE_URL"] = f"sqlite:///{demo_dir / 'poller.db'}"
    return demo_dir


def _start_fakes(secret: str) -> tuple[OdooSim, BackgroundServer, Receiver, BackgroundServer]:
    from odoo_sim.odoo import OdooSim
    from odoo_sim.seed import seed_shop

    sim = OdooSim(database=DEMO_DATABASE, login=DEMO_LOGIN, api_keys=["demo-api-key"])
    seed_shop(sim, anchor=utcnow().replace(tzinfo=None) - timedelta(minutes=1))
    receiver = Receiver(secret=secret)
    return sim, BackgroundServer(sim.app).start(), receiver, BackgroundServer(receiver.app).start()


def _deliveries_table(receiver: Receiver) -> Table:
    table = Table(title="Received by the StockMaster-like receiver")
    for column in ("order", "event", "customer", "lines", "total", "webhook-id"):
        table.add_column(column)
    for item in sorted(receiver.unique().values(), key=lambda r: r.body["order"]["id"]):
        order = item.body["order"]
        table.add_row(
            order["name"],
            item.body["event"],
            order["customer"]["name"] or "",
            str(len(order["lines"])),
            f"{order['amount_total']} {order['currency']}",
            item.webhook_id[:8] + "…",
        )
    return table


async def run_demo(*, once: bool, interval: int, data_dir: Path, console: Console) -> int:
    _ensure_key(console)
    demo_dir = _prepare_database(data_dir)
    server = None
    if not os.environ.get("PREFECT_API_URL"):
        from deployments.local_server import LocalPrefectServer

        console.print("Starting a local Prefect server (API and UI) on 127.0.0.1 …")
        server = LocalPrefectServer(demo_dir / "prefect").start()
        os.environ["PREFECT_API_URL"] = server.api_url
    try:
        return await _demo(once=once, interval=interval, console=console)
    finally:
        if server is not None:
            server.stop()


async def _demo(*, once: bool, interval: int, console: Console) -> int:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: os.environ["PREFECT_API_URL"]}):
        return await _serve_and_poll(once=once, interval=interval, console=console)


async def _serve_and_poll(*, once: bool, interval: int, console: Console) -> int:
    from prefect.deployments import arun_deployment
    from prefect.runner import Runner

    from deployments.connections import deployment_name, to_deployment
    from deployments.serve import stop_on_signals
    from poller.blocks import save_connection
    from poller.connections import ConnectionConfig
    from poller.delivery.signing import generate_webhook_secret
    from poller.runtime import default_store

    secret = generate_webhook_secret()
    sim, sim_server, receiver, receiver_server = _start_fakes(secret)
    box = SecretBox(os.environ[ENV_VAR])
    config = ConnectionConfig(
        name=DEMO,
        odoo_url=sim_server.url,
        database=DEMO_DATABASE,
        username=DEMO_LOGIN,
        api_key_encrypted=box.encrypt("demo-api-key"),
        webhook_url=f"{receiver_server.url}/webhooks",
        webhook_secret_encrypted=box.encrypt(secret),
        poll_interval_seconds=interval,
    )
    await save_connection(config)
    default_store().states.ensure_connection(DEMO, since=utcnow() - timedelta(days=1))
    await _forget_previous_demo_deployment(deployment_name(DEMO))
    runner = Runner(
        name="poller-demo", query_seconds=1, prefetch_seconds=2, pause_on_shutdown=False
    )
    await runner.aadd_deployment(await to_deployment(config, scheduled=not once))
    runner_task = asyncio.create_task(runner.start())
    ui = os.environ["PREFECT_API_URL"].removesuffix("/api")
    console.print(f"Odoo simulator: {sim_server.url}   receiver: {receiver_server.url}")
    console.print(f"Prefect UI: [bold]{ui}[/] (deployment {deployment_name(DEMO)})")
    try:
        if once:
            run = await arun_deployment(deployment_name(DEMO), timeout=180)
            console.print(f"Flow run '{run.name}' finished: {run.state.name if run.state else '?'}")
            console.print(_deliveries_table(receiver))
            return _check(receiver, console)
        console.print(
            f"Polling every {interval}s on the deployment's schedule. Poll at once with "
            f"[bold]prefect deployment run '{deployment_name(DEMO)}'[/] "
            f"(PREFECT_API_URL={os.environ['PREFECT_API_URL']}) or the UI's Run button. "
            "Ctrl-C stops."
        )
        stop = stop_on_signals()
        await _wait_for_seeded_orders(receiver, stop)
        console.print(_deliveries_table(receiver))
        await _keep_polling(sim, receiver, interval, console, stop)
        console.print("Stopping: the runner, the simulator and the receiver.")
        return 0
    finally:
        await _stop_runner(runner, runner_task)
        sim_server.stop()
        receiver_server.stop()


async def _forget_previous_demo_deployment(name: str) -> None:
    """A previous demo's deployment would still hold scheduled runs for a dead simulator."""
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    async with get_client() as client:
        try:
            previous = await client.read_deployment_by_name(name)
        except ObjectNotFound:
            return
        await client.delete_deployment(previous.id)


async def _wait_for_seeded_orders(receiver: Receiver, stop: asyncio.Event) -> None:
    while len(receiver.unique()) < len(seeded_confirmed(DEMO_DATABASE)) and not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.5)


async def _stop_runner(runner: Any, runner_task: asyncio.Task[None]) -> None:
    if runner.started:
        await runner.astop()
    runner_task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await runner_task


def _check(receiver: Receiver, console: Console) -> int:
    bodies = [item.body for item in receiver.unique().values()]
    problems = contract_problems(bodies, DEMO_DATABASE)
    if problems:
        for problem in problems:
            console.print(f"[red]✗ {problem}[/]")
        return 1
    console.print(
        f"[green]✓ all {len(bodies)} confirmed seeded orders arrived once, signed, "
        "and as the webhook contract says[/]"
    )
    return 0


async def _keep_polling(
    sim: OdooSim, receiver: Receiver, interval: int, console: Console, stop: asyncio.Event
) -> None:
    """Confirm a new order now and then, and show each delivery as it arrives, until `stop`."""
    console.print(
        f"Polling every {interval}s; a new order is confirmed every {2 * interval}s. Ctrl-C stops."
    )
    rng = random.Random()
    seen = set(receiver.unique())
    tick = 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
        tick += 1
        if tick % 2 == 0:
            created = sim.create_order(
                rng.choice([7, 9, 10]),
                lines=[
                    {
                        "product_id": rng.choice([1, 2, 3, 4]),
                        "qty": rng.randint(1, 5),
                        "price_unit": 19.9,
                    }
                ],
            )
            console.print(f"Odoo: confirmed {created['name']}")
        for webhook_id, item in receiver.unique().items():
            if webhook_id not in seen:
                seen.add(webhook_id)
                order = item.body["order"]
                console.print(
                    f"StockMaster received {item.body['event']} {order['name']} "
                    f"({order['amount_total']} {order['currency']})"
                )
