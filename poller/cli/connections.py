"""Connections: `add`, `list`, `test`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from poller.cli.app import (
    app,
    checked,
    connection_ref,
    console,
    err_console,
    one_line_errors,
    print_rows,
    run,
    usage_error,
    use_prefect_api,
    whole_number,
)
from poller.cli.secret_input import (
    API_KEY_ENV,
    WEBHOOK_SECRET_ENV,
    refuse_api_key_value,
    refuse_webhook_secret_value,
    secret_file_option,
    secret_from_env,
    secret_from_file,
)
from poller.clock import utcnow
from poller.connections import (
    INTERVAL_RULE,
    MAX_INTERVAL_SECONDS,
    MIN_INTERVAL_SECONDS,
    NAME_RULE,
    TRANSPORTS,
    check_label,
    check_name,
    check_url,
    shown,
)
from poller.errors import ConfigError, ConnectionNotFound, UsageError
from poller.redact import strip_userinfo

CONNECTION_COLUMNS = (
    "id",
    "name",
    "odoo",
    "interval",
    "state",
    "breaker",
    "cursor",
    "last_poll",
    "lease",
    "queued",
    "dead",
)


EARLIEST_SINCE = datetime(1970, 1, 1, tzinfo=UTC)
SINCE_RULE = "an ISO 8601 date or time from 1970 up to now, e.g. 2026-11-01 or 2026-11-01T08:00"


def since_moment(value: str) -> datetime:
    """A `--since` value: ISO 8601, UTC unless it says otherwise, not before 1970 (a cursor
    minus the overlap must stay a date) and not in the future (it would skip orders)."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{shown(value)} is not a date: give {SINCE_RULE}") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if moment < EARLIEST_SINCE:
        raise ValueError(f"{shown(value)} is before 1970: give {SINCE_RULE}")
    if moment > utcnow():
        raise ValueError(f"{shown(value)} is in the future: give {SINCE_RULE}")
    return moment


def parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        return since_moment(value)
    except ValueError as exc:
        raise UsageError(f"--since {exc}") from None


def _odoo_url(url: str) -> str:
    return check_url(url, base=True)


def _webhook_url(url: str) -> str:
    return check_url(url, base=False)


def _database(value: str) -> str:
    return check_label(value, "Odoo database")


def _username(value: str) -> str:
    return check_label(value, "Odoo login")


def _transport(value: str) -> str:
    if value not in TRANSPORTS:
        *others, last = TRANSPORTS
        raise ValueError(f"{shown(value)} is not a transport: give {', '.join(others)} or {last}")
    return value


NAME = checked(check_name)
ODOO_URL = checked(_odoo_url)
WEBHOOK_URL = checked(_webhook_url)
DATABASE = checked(_database)
USERNAME = checked(_username)
TRANSPORT = checked(_transport)
SINCE = checked(since_moment)
INTERVAL = whole_number(MIN_INTERVAL_SECONDS, MAX_INTERVAL_SECONDS, INTERVAL_RULE)


@app.command()
@one_line_errors
def add(
    ctx: typer.Context,
    name: Annotated[
        str,
        typer.Argument(metavar="NAME", help=f"The connection's name: {NAME_RULE}.", callback=NAME),
    ],
    odoo_url: Annotated[
        str,
        typer.Option(
            prompt="Odoo URL",
            callback=ODOO_URL,
            help="http(s) base URL, e.g. https://acme.odoo.com (no user:password@).",
        ),
    ],
    database: Annotated[str, typer.Option(prompt="Odoo database", callback=DATABASE)],
    username: Annotated[str, typer.Option(prompt="Odoo login", callback=USERNAME)],
    webhook_url: Annotated[
        str,
        typer.Option(
            prompt="StockMaster webhook URL",
            callback=WEBHOOK_URL,
            help="http(s) URL (no user:password@, no #fragment).",
        ),
    ],
    api_key_file: Annotated[
        str | None,
        secret_file_option(
            "--api-key-file",
            f"Read the Odoo API key from this file ('-': from stdin). Without it: "
            f"{API_KEY_ENV}, else a prompt without echo. Never give the key as an argument.",
        ),
    ] = None,
    webhook_secret_file: Annotated[
        str | None,
        secret_file_option(
            "--webhook-secret-file",
            f"Read the webhook secret from this file ('-': from stdin). Without it: "
            f"{WEBHOOK_SECRET_ENV}, else one is generated (whsec_...) and printed once.",
        ),
    ] = None,
    interval: Annotated[
        int,
        typer.Option(parser=INTERVAL, metavar="SECONDS", help=f"Between polls: {INTERVAL_RULE}."),
    ] = 60,
    transport: Annotated[
        str, typer.Option(callback=TRANSPORT, help="auto, jsonrpc or json2.")
    ] = "auto",
    since: Annotated[
        str | None,
        typer.Option(
            callback=SINCE,
            help="Deliver orders written since this date, up to now (default: now).",
        ),
    ] = None,
    skip_test: Annotated[bool, typer.Option("--no-test", help="Save without testing.")] = False,
    api_key_value: Annotated[
        str | None,
        typer.Option("--api-key", hidden=True, is_eager=True, callback=refuse_api_key_value),
    ] = None,
    webhook_secret_value: Annotated[
        str | None,
        typer.Option(
            "--webhook-secret", hidden=True, is_eager=True, callback=refuse_webhook_secret_value
        ),
    ] = None,
) -> None:
    """Add a tenant: test it, save its block (secrets encrypted) and create its deployment.

    Secrets are never arguments. The Odoo API key comes from --api-key-file (a file, or '-'
    for stdin), else POLLER_ODOO_API_KEY, else a prompt without echo. The webhook secret
    comes from --webhook-secret-file, else POLLER_WEBHOOK_SECRET, else it is generated and
    printed once."""
    api_key = (
        secret_from_file(ctx, api_key_file, "Odoo API key")
        if api_key_file is not None
        else secret_from_env(API_KEY_ENV)
    )
    webhook_secret = (
        secret_from_file(ctx, webhook_secret_file, "webhook secret")
        if webhook_secret_file is not None
        else secret_from_env(WEBHOOK_SECRET_ENV)
    )
    use_prefect_api()
    from poller.admin import build_config, check_connection, refuse_taken_name, register

    run(refuse_taken_name(name))
    if api_key is None:
        api_key = typer.prompt("Odoo API key", hide_input=True)
    from poller.crypto import secret_box_from_env
    from poller.runtime import default_store
    from poller.settings import get_settings

    settings, box = get_settings(), secret_box_from_env()
    new = build_config(
        box,
        name=name,
        odoo_url=odoo_url,
        database=database,
        username=username,
        api_key=api_key,
        webhook_url=webhook_url,
        webhook_secret=webhook_secret,
        poll_interval_seconds=interval,
        transport=transport,
    )
    if not skip_test:
        checks = run(check_connection(new.config, box, settings))
        _print_checks(checks)
        if not all(c.ok for c in checks):
            raise ConfigError(
                f"connection '{name}' failed its test and was not saved",
                hint="Fix what is marked ✗, or save anyway with --no-test",
            )
    store = default_store(settings)
    connection_id = run(register(new.config, store, parse_since(since)))
    deployment = run(_apply_deployment(new.config))
    console.print(
        f"Saved connection '{name}' (id {connection_id}): block odoo-connection/{name}, "
        f"deployment {deployment}, every {interval}s."
    )
    if new.generated_secret:
        console.print("Webhook secret (shown once; give it to StockMaster):")
        console.print(new.generated_secret, highlight=False, soft_wrap=True)


async def _apply_deployment(config: Any) -> str:
    from deployments.connections import deployment_name, to_deployment

    await (await to_deployment(config)).aapply()
    return deployment_name(config.name)


def _print_checks(checks: list[Any]) -> None:
    for check in checks:
        mark = "[green]✓[/]" if check.ok else "[red]✗[/]"
        console.print(f"{mark} {check.name:8} {check.detail}", highlight=False, soft_wrap=True)
        if check.warning:
            console.print(f"[yellow]! {'':8} {check.warning}[/]", highlight=False, soft_wrap=True)


@app.command()
@one_line_errors
def test(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="Connection name or id.", callback=connection_ref)
    ],
) -> None:
    """Check a connection: secrets, Odoo (version, transport, user), waiting orders, webhook."""
    use_prefect_api()
    from poller.admin import check_connection
    from poller.blocks import load_connection
    from poller.crypto import secret_box_from_env
    from poller.runtime import default_store
    from poller.settings import get_settings

    settings = get_settings()
    store = default_store(settings)
    config = run(load_connection(_name_of(store, name)))
    checks = run(check_connection(config, secret_box_from_env(), settings, store))
    _print_checks(checks)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


def _name_of(store: Any, ref: str) -> str:
    """A connection is named by its name or its numeric id everywhere."""
    return store.states.find_connection(ref).name if ref.isdigit() else ref


@app.command("list")
@one_line_errors
def list_connections(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Every connection: state, breaker, cursor, last poll, queue depth."""
    use_prefect_api()
    from poller.blocks import list_connection_blocks
    from poller.runtime import default_store

    store = default_store()
    configs, invalid = _parsed(run(list_connection_blocks()))
    rows = _connection_rows(configs, store) + [_invalid_row(name, store) for name in invalid]
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        err_console.print("No connections yet: add one with `poller add`.")
        return
    print_rows("Connections", rows, CONNECTION_COLUMNS)


def _parsed(blocks: list[Any]) -> tuple[list[Any], list[str]]:
    """The connections whose blocks validate, and the names of those that do not (edited by
    hand, or saved under older rules): listed, never a traceback."""
    from pydantic import ValidationError

    configs, invalid = [], []
    for block in blocks:
        try:
            configs.append(block.to_config())
        except ValidationError:
            invalid.append(block.name)
    return configs, invalid


def _invalid_row(name: str, store: Any) -> dict[str, Any]:
    state = next((s for s in store.states.connections() if s.name == name), None)
    row: dict[str, Any] = dict.fromkeys(CONNECTION_COLUMNS)
    return {
        **row,
        "id": state.id if state else None,
        "name": name,
        "state": "invalid block (see `poller test`)",
    }


def _connection_rows(configs: list[Any], store: Any) -> list[dict[str, Any]]:
    from poller.breaker import BreakerPolicy

    states = {state.name: state for state in store.states.connections()}
    counts = store.outbox.delivery_counts()
    rows = []
    for config in configs:
        state = states.get(config.name)
        cid = state.id if state else None
        breaker, _ = store.states.load_breaker(cid) if cid else (None, 0)
        due = breaker.probe_due_at(BreakerPolicy()) if breaker else None
        status = "enabled" if config.enabled else "disabled"
        if state and state.endpoint_gone_at:
            status = "webhook gone (410)"
        rows.append(
            {
                "id": cid,
                "name": config.name,
                "odoo": f"{strip_userinfo(config.odoo_base_url)} / {config.database}",
                "interval": f"{config.poll_interval_seconds}s",
                "state": status,
                "breaker": breaker.state.value + (f" (probe {due:%H:%M:%S}Z)" if due else "")
                if breaker
                else "closed",
                "cursor": state.cursor if state else None,
                "last_poll": f"{state.last_poll_at:%Y-%m-%d %H:%M:%S}Z"
                if state and state.last_poll_at
                else None,
                "lease": _lease(state, store.clock()),
                "queued": sum(counts.get((cid, s), 0) for s in ("pending", "retrying"))
                if cid
                else 0,
                "dead": counts.get((cid, "dead"), 0) if cid else 0,
            }
        )
    return rows


def _lease(state: Any, now: datetime) -> str | None:
    """Who holds the connection right now (the worker polling it), and until when."""
    if state is None or not state.lease_owner or state.lease_expires_at is None:
        return None
    if state.lease_expires_at <= now:
        return None
    worker = state.lease_owner.split("#")[0]
    return f"{worker} until {state.lease_expires_at:%H:%M:%S}Z"


@app.command("reset-circuit")
@one_line_errors
def reset_circuit(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="Connection name or id.", callback=connection_ref)
    ],
) -> None:
    """Close a connection's circuit breaker by hand: its next scheduled poll runs."""
    from poller.runtime import default_store

    store = default_store()
    state = store.states.find_connection(name)
    before = store.states.reset_breaker(int(state.id or 0))
    console.print(
        f"Circuit of '{state.name}' closed (it was {before.state.value}, "
        f"{before.failures} failure(s) in a row)."
    )


@app.command(context_settings={"allow_extra_args": True})
@one_line_errors
def edit(
    ctx: typer.Context,
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="Connection name or id.", callback=connection_ref)
    ],
    odoo_url: Annotated[
        str | None, typer.Option(callback=ODOO_URL, help="http(s) base URL, no user:password@.")
    ] = None,
    database: Annotated[str | None, typer.Option(callback=DATABASE)] = None,
    username: Annotated[str | None, typer.Option(callback=USERNAME)] = None,
    api_key: Annotated[
        bool,
        typer.Option("--api-key", help="Prompt (without echo) for a new Odoo API key; no value."),
    ] = False,
    api_key_file: Annotated[
        str | None,
        secret_file_option(
            "--api-key-file",
            "Read a new Odoo API key from this file ('-': from stdin).",
        ),
    ] = None,
    webhook_url: Annotated[
        str | None,
        typer.Option(callback=WEBHOOK_URL, help="http(s) URL, no user:password@, no #fragment."),
    ] = None,
    webhook_secret: Annotated[
        bool,
        typer.Option(
            "--webhook-secret", help="Prompt (without echo) for a new webhook secret; no value."
        ),
    ] = False,
    webhook_secret_file: Annotated[
        str | None,
        secret_file_option(
            "--webhook-secret-file",
            "Read a new webhook secret from this file ('-': from stdin).",
        ),
    ] = None,
    interval: Annotated[
        int | None,
        typer.Option(parser=INTERVAL, metavar="SECONDS", help=f"Between polls: {INTERVAL_RULE}."),
    ] = None,
    transport: Annotated[
        str | None, typer.Option(callback=TRANSPORT, help="auto, jsonrpc or json2.")
    ] = None,
    enabled: Annotated[bool | None, typer.Option("--enable/--disable")] = None,
    skip_test: Annotated[
        bool, typer.Option("--no-test", help="Save without testing the changed access.")
    ] = False,
) -> None:
    """Change a connection; its block and deployment are updated. A changed URL, database,
    login, key, transport or webhook is tested first (as `add` does) unless --no-test.

    Secrets are never arguments: --api-key / --webhook-secret prompt without echo,
    --api-key-file / --webhook-secret-file read a file ('-' for stdin)."""
    if ctx.args:  # `--api-key NEWKEY`: the flag takes no value; never echo what came
        usage_error(
            "edit takes one connection name and no other argument; --api-key and "
            "--webhook-secret take no value (secrets are not taken as arguments): they prompt "
            "without echo, or use --api-key-file / --webhook-secret-file PATH ('-' for stdin)"
        )
    if api_key and api_key_file is not None:
        usage_error("give --api-key (prompt) or --api-key-file, not both")
    if webhook_secret and webhook_secret_file is not None:
        usage_error("give --webhook-secret (prompt) or --webhook-secret-file, not both")
    new_api_key = (
        secret_from_file(ctx, api_key_file, "Odoo API key") if api_key_file is not None else None
    )
    new_webhook_secret = (
        secret_from_file(ctx, webhook_secret_file, "webhook secret")
        if webhook_secret_file is not None
        else None
    )
    use_prefect_api()
    from poller.admin import apply_edit, check_connection, edited_config
    from poller.blocks import load_connection
    from poller.crypto import secret_box_from_env
    from poller.runtime import default_store
    from poller.settings import get_settings

    store = default_store()
    config = run(load_connection(_name_of(store, name)))
    changes: dict[str, Any] = {
        k: v
        for k, v in {
            "odoo_url": odoo_url,
            "database": database,
            "username": username,
            "webhook_url": webhook_url,
            "poll_interval_seconds": interval,
            "transport": transport,
            "enabled": enabled,
        }.items()
        if v is not None
    }
    if api_key:
        new_api_key = typer.prompt("New Odoo API key", hide_input=True)
    if webhook_secret:
        new_webhook_secret = typer.prompt("New webhook secret", hide_input=True)
    secrets = {"api_key": new_api_key, "webhook_secret": new_webhook_secret}
    if not changes and not any(secrets.values()):
        raise UsageError("nothing to change", hint="See `poller edit --help`")
    box = secret_box_from_env()
    candidate = None if skip_test else edited_config(config, changes, secrets, box)
    if candidate is not None:
        checks = run(check_connection(candidate, box, get_settings(), store))
        _print_checks(checks)
        if not all(check.ok for check in checks):
            raise ConfigError(
                f"the edit of '{config.name}' failed its test and was not saved",
                hint="Fix what is marked ✗, or save anyway with --no-test",
            )
    updated, notes = apply_edit(config, changes, secrets, box, store)
    run(_save_and_deploy(updated))
    store.states.forget_definition(updated.name)  # after the save: fleet workers read it again
    console.print(f"Updated connection '{updated.name}'.")
    for note in notes:
        console.print(f"  {note}")


async def _save_and_deploy(config: Any) -> None:
    from poller.blocks import save_connection

    await save_connection(config)
    await _apply_deployment(config)


@app.command()
@one_line_errors
def delete(
    name: Annotated[
        str, typer.Argument(metavar="NAME", help="Connection name or id.", callback=connection_ref)
    ],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
) -> None:
    """Remove a connection's block and deployment. Its history (deliveries, sync log, flow
    runs) is kept; adding the same name again continues from its cursor."""
    use_prefect_api()
    from poller.admin import connection_exists
    from poller.runtime import default_store

    store = default_store()
    connection = _name_of(store, name)
    if not run(connection_exists(connection)):
        raise ConnectionNotFound(
            f"no connection named {connection!r}", hint="See `poller list` for the connections"
        )
    if not yes:
        typer.confirm(f"Delete connection '{connection}' (its block and deployment)?", abort=True)
    run(_delete(connection))
    console.print(f"Deleted connection '{connection}': block and deployment removed, history kept.")


async def _delete(connection: str) -> None:
    from prefect.client.orchestration import get_client
    from prefect.exceptions import ObjectNotFound

    from deployments.connections import deployment_name
    from poller.blocks import delete_connection_block

    await delete_connection_block(connection)
    async with get_client() as client:
        try:
            deployment = await client.read_deployment_by_name(deployment_name(connection))
        except ObjectNotFound:
            return
        await client.delete_deployment(deployment.id)
