"""What the `poller` commands do, as functions: add, check, rotate. The CLI only talks."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
from pydantic import ValidationError

from poller.blocks import all_connections, load_connection, save_connection
from poller.connections import ConnectionConfig
from poller.crypto import SecretBox
from poller.cursor import start_scan
from poller.delivery.signing import generate_webhook_secret
from poller.errors import (
    ConnectionNotFound,
    InvalidConnection,
    PollerError,
    UsageError,
)
from poller.odoo.client import OdooClient
from poller.odoo.reader import CONFIRMED_STATES
from poller.redact import Redactor
from poller.settings import Settings
from poller.state.models import OPEN_STATUSES, Delivery, DeliveryStatus
from poller.state.store import Store
from poller.webhook_check import Check, check_webhook


@dataclass(frozen=True)
class NewConnection:
    config: ConnectionConfig
    generated_secret: str | None  # shown once when the poller generated it


def build_config(
    box: SecretBox,
    *,
    name: str,
    odoo_url: str,
    database: str,
    username: str,
    api_key: str,
    webhook_url: str,
    webhook_secret: str | None,
    poll_interval_seconds: int = 60,
    transport: str = "auto",
) -> NewConnection:
    generated = None if webhook_secret else generate_webhook_secret()
    fields = {
        "name": name,
        "odoo_url": odoo_url,
        "database": database,
        "username": username,
        "api_key_encrypted": box.encrypt(api_key),
        "webhook_url": webhook_url,
        "webhook_secret_encrypted": box.encrypt(webhook_secret or generated or ""),
        "poll_interval_seconds": poll_interval_seconds,
        "transport": transport,
    }
    return NewConnection(validated(fields), generated)


def validated(fields: dict[str, Any]) -> ConnectionConfig:
    """A connection from what an operator gave; what the model refuses is a UsageError that
    names the fields and why, never their values (one may be a secret's ciphertext)."""
    try:
        return ConnectionConfig.model_validate(fields)
    except ValidationError as exc:
        reasons = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'connection'}: {error['msg']}"
            for error in exc.errors()
        )
        raise UsageError(f"the connection is not valid: {reasons}") from None


async def connection_exists(name: str) -> bool:
    """Whether a connection block of that name exists, whether it validates or not."""
    try:
        await load_connection(name)
    except ConnectionNotFound:
        return False
    except InvalidConnection:
        return True
    return True


async def refuse_taken_name(name: str) -> None:
    """`add` never overwrites: a connection is changed with `edit`."""
    if await connection_exists(name):
        raise UsageError(
            f"connection '{name}' exists already",
            hint=f"Change it with `poller edit {name}`, or `poller delete {name}` it first",
        )


async def register(config: ConnectionConfig, store: Store, since: datetime | None) -> int:
    """Save the block and the state row (cursor at `since`, default now). Returns the id."""
    await save_connection(config)
    state = store.states.ensure_connection(
        config.name,
        since=since,
        interval_seconds=config.poll_interval_seconds,
        enabled=config.enabled,
    )
    connection_id = int(state.id or 0)
    store.states.set_schedule(
        connection_id, interval_seconds=config.poll_interval_seconds, enabled=config.enabled
    )
    store.states.forget_definition(config.name)  # a re-added name: fleet workers read it again
    return connection_id


async def check_connection(
    config: ConnectionConfig, box: SecretBox, settings: Settings, store: Store | None = None
) -> list[Check]:
    """Each thing a poll needs, checked in order, with a verdict an operator can act on."""
    checks: list[Check] = []
    try:
        key = box.decrypt(config.api_key_encrypted, what="the Odoo API key")
        secret = box.decrypt(config.webhook_secret_encrypted, what="the webhook secret")
    except PollerError as exc:
        return [Check("secrets", False, str(exc))]
    checks.append(Check("secrets", True, "the API key and webhook secret decrypt"))
    redact = Redactor([key, secret])  # Odoo's and the receiver's answers may echo them
    async with httpx.AsyncClient(timeout=settings.odoo_timeout_seconds) as http:
        checks.extend(await _check_odoo(config, key, settings, store, http))
        checks.append(await check_webhook(str(config.webhook_url), http))
    return [
        dataclasses.replace(
            check, detail=redact(check.detail), warning=redact.optional(check.warning)
        )
        for check in checks
    ]


async def _check_odoo(
    config: ConnectionConfig,
    key: str,
    settings: Settings,
    store: Store | None,
    http: httpx.AsyncClient,
) -> list[Check]:
    odoo = OdooClient(
        http,
        url=config.odoo_base_url,
        database=config.database,
        login=config.username,
        secret=key,
        connection=config.name,
        transport=config.transport,
    )
    try:
        session = await odoo.open_session()
    except PollerError as exc:
        return [Check("odoo", False, str(exc))]
    checks = [
        Check("odoo", True, f"Odoo {session.version.serie} over {session.transport}"),
        Check("login", True, f"'{config.username}' is user id {session.uid}"),
    ]
    cursor = _cursor(store, config.name)
    domain: list[list[Any]] = [["state", "in", list(CONFIRMED_STATES)]]
    lower = start_scan(cursor, settings.overlap_seconds).lower_bound if cursor else None
    if lower:
        domain.append(["write_date", ">=", lower])
    try:
        waiting = await odoo.search_count("sale.order", domain)
    except PollerError as exc:
        return [*checks, Check("orders", False, str(exc))]
    since = f"since {lower} (cursor - overlap)" if lower else "in all"
    return [*checks, Check("orders", True, f"{waiting} confirmed orders {since}")]


def _cursor(store: Store | None, name: str) -> str | None:
    if store is None:
        return None
    try:
        return store.states.find_connection(name).cursor
    except ConnectionNotFound:
        return None


async def rotate_keys(box: SecretBox) -> tuple[int, int]:
    """Re-encrypt every stored secret under the newest key: (secrets rewritten, connections)."""
    rewritten = 0
    configs = await all_connections()
    for config in configs:
        fields = {}
        for field in ("api_key_encrypted", "webhook_secret_encrypted"):
            token = getattr(config, field)
            if not box.is_current(token):
                fields[field] = box.rotate(token)
        if fields:
            rewritten += len(fields)
            await save_connection(config.model_copy(update=fields))
    return rewritten, len(configs)


#: what an edit must test before it is saved: what Odoo and StockMaster see
TESTED_ON_EDIT = frozenset(
    {"odoo_url", "database", "username", "transport", "webhook_url"}
    | {"api_key_encrypted", "webhook_secret_encrypted"}
)


def edit_fields(
    changes: dict[str, object], secrets: dict[str, str | None], box: SecretBox
) -> dict[str, object]:
    """The fields an edit changes, new secrets encrypted."""
    update = dict(changes)
    if secrets.get("api_key"):
        update["api_key_encrypted"] = box.encrypt(str(secrets["api_key"]))
    if secrets.get("webhook_secret"):
        update["webhook_secret_encrypted"] = box.encrypt(str(secrets["webhook_secret"]))
    return update


def edited_config(
    config: ConnectionConfig,
    changes: dict[str, object],
    secrets: dict[str, str | None],
    box: SecretBox,
) -> ConnectionConfig | None:
    """The connection as the edit would save it, when the edit touches what a test checks
    (Odoo access, the key, the webhook); None when it does not."""
    update = edit_fields(changes, secrets, box)
    if not TESTED_ON_EDIT & set(update):
        return None
    return validated({**config.model_dump(), **update})


def apply_edit(
    config: ConnectionConfig,
    changes: dict[str, object],
    secrets: dict[str, str | None],
    box: SecretBox,
    store: Store,
) -> tuple[ConnectionConfig, list[str]]:
    """The edited connection, and what an operator should know about the side effects."""
    notes: list[str] = []
    update = edit_fields(changes, secrets, box)
    edited = validated({**config.model_dump(), **update})
    state = store.states.ensure_connection(config.name)
    connection_id = int(state.id or 0)
    if {"poll_interval_seconds", "enabled"} & set(update):
        store.states.set_schedule(
            connection_id, interval_seconds=edited.poll_interval_seconds, enabled=edited.enabled
        )
    if {"odoo_url", "database", "username", "api_key_encrypted", "transport"} & set(update):
        store.states.save_odoo_session(connection_id, None)
        notes.append("Odoo access changed: version, transport and fields are detected again.")
    if "webhook_url" in update or "webhook_secret_encrypted" in update:
        if state.endpoint_gone_at is not None:
            store.states.mark_endpoint_gone(connection_id, False)
            notes.append("The endpoint no longer counts as gone (410).")
        due = store.outbox.retry_now(connection_id=connection_id)
        notes.append(f"{due} failed or dead-lettered deliveries go out with the next poll.")
    return edited, notes


RETRYABLE = (DeliveryStatus.RETRYING, DeliveryStatus.DEAD)
DISCARDABLE = (*OPEN_STATUSES, DeliveryStatus.DEAD)


def check_deliveries(
    store: Store,
    ids: Sequence[int],
    allowed: Sequence[DeliveryStatus],
    doing: str,
    connection_id: int | None = None,
) -> list[Delivery]:
    """The deliveries of `ids`, each in one of the `allowed` statuses (and of the connection,
    when one is named); a UsageError for the first that is not, before anything changes."""
    found = store.outbox.by_ids(ids)
    for delivery_id in ids:
        row = found.get(delivery_id)
        if row is None or (connection_id is not None and row.connection_id != connection_id):
            where = "" if connection_id is None else " of that connection"
            raise UsageError(
                f"no delivery{where} with id {delivery_id}", hint="See `poller retries`"
            )
        if row.status not in allowed:
            *others, last = (str(status) for status in allowed)
            raise UsageError(
                f"delivery {delivery_id} is {row.status}: only {', '.join(others)} or {last} "
                f"deliveries can be {doing}",
                hint="See `poller retries`",
            )
    return [found[delivery_id] for delivery_id in ids]
