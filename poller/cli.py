"""The `poller` command. Every error is one line that says what to do, with a non-zero exit."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console

from poller.errors import PollerError

app = typer.Typer(
    name="poller",
    help="Odoo Order Poller: confirmed Odoo sale orders to StockMaster as signed webhooks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()
err_console = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])


def one_line_errors(func: F) -> F:
    """Turn the poller's named errors into `error: ...` and exit code 1, never a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PollerError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


@app.command()
def keygen() -> None:
    """Print a new Fernet key for POLLER_ENCRYPTION_KEY."""
    from poller.crypto import generate_key

    print(generate_key())


@app.command()
@one_line_errors
def demo(
    once: Annotated[
        bool, typer.Option("--once", help="Run one poll through a real flow run, check it, exit.")
    ] = False,
    interval: Annotated[
        int, typer.Option(help="Seconds between scheduled polls of the demo tenant.")
    ] = 15,
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its databases.")] = Path(
        "data"
    ),
) -> None:
    """Bring up an Odoo simulator, a StockMaster-like receiver and a local Prefect server,
    then poll a demo tenant through its Prefect deployment."""
    from deployments.demo import run_demo

    code = asyncio.run(run_demo(once=once, interval=interval, data_dir=data_dir, console=console))
    raise typer.Exit(code)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
