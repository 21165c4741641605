"""The `poller` Typer app and what every command shares: one-line errors, settings, Prefect."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from functools import wraps
from typing import Any, TypeVar

import httpx
import typer
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table

from poller.errors import ConfigError, PollerError

app = typer.Typer(
    name="poller",
    help="Odoo Order Poller: confirmed Odoo sale orders to StockMaster as signed webhooks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
LOCAL_API = "http://127.0.0.1:4200/api"


def one_line_errors(func: F) -> F:
    """The poller's named errors become `error: ...` and exit code 1, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PollerError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature typer reads


def print_rows(title: str, rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    """Records as a table (`--json` prints the same records for scripts)."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column.replace("_", " "), overflow="fold")
    for row in rows:
        table.add_row(*("" if row[c] is None else str(row[c]) for c in columns))
    if console.is_terminal:
        console.print(table)
    else:  # piped or captured: whole words at the table's own width, never `interv`/`al`
        unbounded = console.options.update_width(10_000)
        width = max(console.width, Measurement.get(console, unbounded, table).maximum)
        Console(width=width, file=console.file).print(table)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def _configured_api_url() -> str | None:
    if "prefect.context" in sys.modules:  # Prefect read its settings already: ask it
        from prefect.settings import get_current_settings

        return get_current_settings().api.url
    return os.environ.get("PREFECT_API_URL")


def use_prefect_api() -> str:
    """The Prefect API the commands talk to: PREFECT_API_URL, else the local server that
    `poller run` starts on 127.0.0.1:4200 (never Prefect's throwaway ephemeral API).
    Call it before anything imports Prefect."""
    url = _configured_api_url() or LOCAL_API
    try:
        healthy = httpx.get(f"{url.rstrip('/')}/health", timeout=3).status_code == 200
    except httpx.HTTPError:
        healthy = False
    if not healthy:
        raise ConfigError(
            f"no Prefect API answers at {url}",
            hint="Start one with `poller run` (it serves the UI too) or set PREFECT_API_URL",
        )
    os.environ["PREFECT_API_URL"] = url
    return url
