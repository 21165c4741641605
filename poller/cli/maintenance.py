"""Keys and schema: `keygen`, `rotate-keys`, `db upgrade`."""

from __future__ import annotations

import typer

from poller.cli.app import app, console, one_line_errors, run, use_prefect_api

db_app = typer.Typer(help="The poller's own database.", no_args_is_help=True)
app.add_typer(db_app, name="db")


@app.command()
def keygen() -> None:
    """Print a new Fernet key for POLLER_ENCRYPTION_KEY."""
    from poller.crypto import generate_key

    print(generate_key())


@app.command("rotate-keys")
@one_line_errors
def rotate_keys() -> None:
    """Re-encrypt every stored secret under the newest key of POLLER_ENCRYPTION_KEY.

    Put the new key first (`NEW,OLD`), run this, then the old key can be removed."""
    from poller.admin import rotate_keys as rotate
    from poller.crypto import secret_box_from_env

    box = secret_box_from_env()
    use_prefect_api()
    rewritten, connections = run(rotate(box))
    console.print(
        f"Re-encrypted {rewritten} secret(s) of {connections} connection(s) under the newest key."
    )
    if box.key_count > 1:
        console.print("Every secret now opens with the first key alone: the others can go.")


@db_app.command("upgrade")
@one_line_errors
def db_upgrade() -> None:
    """Create or upgrade the poller's tables (also done automatically at every start), and
    the Prefect automation that marks runs whose process died as Crashed."""
    from poller.runtime import default_store
    from poller.settings import get_settings

    settings = get_settings()
    default_store(settings)
    console.print(f"The database at {_masked(settings.database_url)} is at the newest schema.")
    console.print(_zombie_automation(), highlight=False)


def _zombie_automation() -> str:
    """Create the automation when a Prefect API answers; the schema upgrade does not need
    one, so its absence is a note, not an error."""
    from poller.errors import ConfigError, one_line

    try:
        use_prefect_api()
    except ConfigError as exc:
        return f"Prefect automation not checked: {exc}"
    from prefect.client.orchestration import get_client

    from deployments.heartbeat import use_heartbeats
    from deployments.recovery import ZOMBIE_AUTOMATION, ensure_zombie_automation

    async def ensure() -> bool:
        async with get_client() as client:
            return await ensure_zombie_automation(client, use_heartbeats())

    try:
        created = run(ensure())
    except Exception as exc:  # the API answered health but not this: say so, go on
        return f"Prefect automation not checked: {one_line(exc)}"
    return f"Prefect automation '{ZOMBIE_AUTOMATION}' {'created' if created else 'is in place'}."


def _masked(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
