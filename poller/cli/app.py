"""The `poller` Typer app and what every command shares: one-line errors, input checks,
settings, Prefect."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from functools import wraps
from typing import Any, NoReturn, TypeVar

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.measure import Measurement
from rich.table import Table
from typer.core import TyperGroup

from poller.connections import NAME_RULE, check_name, shown
from poller.errors import (
    ConfigError,
    ConnectionNotFound,
    PollerError,
    SettingsError,
    UsageError,
)

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")
LOCAL_API = "http://127.0.0.1:4200/api"
#: the most rows `logs` and `retries` show
MAX_ROWS = 100_000
#: the largest id the databases hold (a signed 64-bit integer)
MAX_ID = 2**63 - 1
#: errors that mean the command line is wrong: exit code 2, as click's own usage errors
USAGE_ERRORS = (UsageError, ConnectionNotFound, SettingsError)
#: click's UsageError as typer raises it (typer 0.2x vendors its own click, so
#: `click.UsageError` would not catch it): the base class of `typer.BadParameter`
CLICK_USAGE_ERROR: type[Exception] = next(
    base for base in typer.BadParameter.__mro__ if base.__name__ == "UsageError"
)
console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)


def print_error(message: str) -> None:
    """`error: ...` on stderr, on one line whatever the message holds; no markup is read in it."""
    line = " ".join(part.strip() for part in message.splitlines() if part.strip())
    err_console.print(f"[bold red]error:[/] {escape(line)}", highlight=False, soft_wrap=True)


def usage_error(message: str) -> NoReturn:
    """A wrong command line: one line and exit code 2, like click's own usage errors."""
    print_error(message)
    raise typer.Exit(2)


class OneLineUsage(TyperGroup):
    """click's own usage errors (a missing argument, an unknown option or command, a value
    an option refuses) as one line and exit code 2 too, not typer's box with the usage."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CLICK_USAGE_ERROR as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # `poller db`: the help answers
                raise
            usage_error(_usage_line(exc))


def _usage_line(exc: Exception) -> str:
    """click's message, and a pointer to the command's help but after a refused value (its
    message says what is allowed)."""
    message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
    command = getattr(getattr(exc, "ctx", None), "command_path", None)
    if type(exc) is typer.BadParameter or not command:  # not its MissingParameter
        return str(message)
    return f"{str(message).rstrip('.')}: see `{command} --help`"


app = typer.Typer(
    name="poller",
    help="Odoo Order Poller: confirmed Odoo sale orders to StockMaster as signed webhooks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=OneLineUsage,
)


def one_line_errors(func: F) -> F:
    """The poller's named errors become one `error: ...` line, never a traceback: exit code
    2 when the command line is wrong (`USAGE_ERRORS`), 1 when the work failed."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PollerError as exc:
            print_error(str(exc))
            raise typer.Exit(2 if isinstance(exc, USAGE_ERRORS) else 1) from None

    return wrapper  # type: ignore[return-value]  # functools.wraps keeps the signature typer reads


def whole_number(low: int, high: int, allowed: str) -> Callable[[str | int], int]:
    """An option's parser for a whole number from `low` to `high`; `allowed` says so in words."""

    def parse(value: str | int) -> int:
        try:
            number = int(value)
        except ValueError:
            raise typer.BadParameter(
                f"{shown(str(value))} is not a whole number: give {allowed}"
            ) from None
        if not low <= number <= high:
            digits = str(number)
            said = digits if len(digits) <= 24 else f"a number of {len(digits)} digits"
            raise typer.BadParameter(f"{said} is out of range: give {allowed}")
        return number

    return parse


def checked(check: Callable[[str], object]) -> Callable[[str | None], str | None]:
    """An option callback that refuses what `check` refuses (a ValueError with its reason)."""

    def callback(value: str | None) -> str | None:
        if value is not None:
            try:
                check(value)
            except ValueError as exc:
                raise typer.BadParameter(str(exc)) from None
        return value

    return callback


def check_connection_ref(ref: str) -> str:
    """A connection named by its name or its id: either could exist."""
    if ref.isascii() and ref.isdigit():
        if int(ref) > MAX_ID:
            raise ValueError(
                f"no connection has id {shown(ref)}: give a connection's name or id from "
                "`poller list`"
            )
        return ref
    try:
        return check_name(ref)
    except ValueError:
        raise ValueError(
            f"no connection can be named {shown(ref)}, as a name is {NAME_RULE}: "
            "give a connection's name or id from `poller list`"
        ) from None


connection_ref = checked(check_connection_ref)
ROWS = whole_number(1, MAX_ROWS, f"a number of rows from 1 to {MAX_ROWS}")


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
