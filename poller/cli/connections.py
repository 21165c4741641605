"""Connections: `add`, `list`, `test`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer

from poller.cli.app import (
    app,
    console,
    err_console,
    one_line_errors,
    print_rows,
    run,
    use_prefect_api,
)
from poller.cli.secret_input import (
    API_KEY_ENV,
    WEBHOOK_SECRET_ENV,
    read_stdin_once,
    refuse_api_key_value,
    refuse_webhook_secret_value,
    secret_from_env,
    secret_from_file,
    usage_error,
)
from poller.errors import ConfigError
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


def parse_since(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError(
            f"--since {value!r} is not a date",
            hint="Use ISO 8601, e.g. 2026-11-01 or 2026-11-01T08:00",
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command()
@one_line_errors
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Lowercase letters, digits, dashes.")],
    odoo_url: Annotated[str, typer.Option(prompt="Odoo URL", help="e.g. https://acme.odoo.com")],
    database: Annotated[str, typer.Option(prompt="Odoo database")],
    username: Annotated[str, typer.Option(prompt="Odoo login")],
    webhook_url: Annotated[str, typer.Option(prompt="StockMaster webhook URL")],
    api_key_file: Annotated[
        str | None,
        typer.Option(
            "--api-key-file",
            metavar="PATH",
            is_eager=True,
            callback=read_stdin_once,
            help=f"Read the Odoo API key from this file ('-': from stdin). Without it: "
            f"{API_KEY_ENV}, else a prompt without echo. Never give the key as an argument.",
        ),
    ] = None,
    webhook_secret_file: Annotated[
        str | None,
        typer.Option(
            "--webhook-secret-file",
            metavar="PATH",
            is_eager=True,
            callback=read_stdin_once,
            help=f"Read the webhook secret from this file ('-': from stdin). Without it: "
            f"{WEBHOOK_SECRET_ENV}, else one is generated (whsec_...) and printed once.",
        ),
    ] = None,
    interval: Annotated[int, typer.Option(help="Seconds between polls.")] = 60,
    transport: Annotated[str, typer.Option(help="auto, jsonrpc or json2.")] = "auto",
    since: Annotated[
        str | None, typer.Option(help="Deliver orders confirmed since this date (default: now).")
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
    if api_key is None:
        api_key = typer.prompt("Odoo API key", hide_input=True)
    from poller.admin import build_config, check_connection, register
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
def test(name: Annotated[str, typer.Argument(help="Connection name or id.")]) -> None:
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
    from poller.blocks import all_connections
    from poller.runtime import default_store

    store = default_store()
    rows = _connection_rows(run(all_connections()), store)
    if as_json:
        print(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        err_console.print("No connections yet: add one with `poller add`.")
        return
    print_rows("Connections", rows, CONNECTION_COLUMNS)


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
def reset_circuit(name: Annotated[str, typer.Argument(help="Connection name or id.")]) -> None:
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
    name: Annotated[str, typer.Argument(help="Connection name or id.")],
    odoo_url: Annotated[str | None, typer.Option()] = None,
    database: Annotated[str | None, typer.Option()] = None,
    username: Annotated[str | None, typer.Option()] = None,
    api_key: Annotated[
        bool,
        typer.Option("--api-key", help="Prompt (without echo) for a new Odoo API key; no value."),
    ] = False,
    api_key_file: Annotated[
        str | None,
        typer.Option(
            "--api-key-file",
            metavar="PATH",
            is_eager=True,
            callback=read_stdin_once,
            help="Read a new Odoo API key from this file ('-': from stdin).",
        ),
    ] = None,
    webhook_url: Annotated[str | None, typer.Option()] = None,
    webhook_secret: Annotated[
        bool,
        typer.Option(
            "--webhook-secret", help="Prompt (without echo) for a new webhook secret; no value."
        ),
    ] = False,
    webhook_secret_file: Annotated[
        str | None,
        typer.Option(
            "--webhook-secret-file",
            metavar="PATH",
            is_eager=True,
            callback=read_stdin_once,
            help="Read a new webhook secret from this file ('-': from stdin).",
        ),
    ] = None,
    interval: Annotated[int | None, typer.Option(help="Seconds between polls.")] = None,
    transport: Annotated[str | None, typer.Option(help="auto, jsonrpc or json2.")] = None,
    enabled: Annotated[bool | None, typer.Option("--enable/--disable")] = None,
) -> None:
    """Change a connection; its block and deployment are updated.

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
    from poller.admin import apply_edit
    from poller.blocks import load_connection
    from poller.crypto import secret_box_from_env
    from poller.runtime import default_store

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
        raise ConfigError("nothing to change", hint="See `poller edit --help`")
    updated, notes = apply_edit(config, changes, secrets, secret_box_from_env(), store)
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
    name: Annotated[str, typer.Argument(help="Connection name or id.")],
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask.")] = False,
) -> None:
    """Remove a connection's block and deployment. Its history (deliveries, sync log, flow
    runs) is kept; adding the same name again continues from its cursor."""
    use_prefect_api()
    from poller.runtime import default_store

    store = default_store()
    connection = _name_of(store, name)
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
