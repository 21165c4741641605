"""`OdooSim`: one in-memory Odoo database of a given version, its call log, its faults and its
HTTP app, behind one lock."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from odoo_sim.odoo import jsonrpc
from odoo_sim.odoo.app import build_app
from odoo_sim.odoo.auth import Credentials
from odoo_sim.odoo.calllog import CallLog, CallRecord, FaultedCall
from odoo_sim.odoo.errors import SimError
from odoo_sim.odoo.faults import Faults
from odoo_sim.odoo.fieldsets import fields_for, with_storable_type
from odoo_sim.odoo.generate import Generator, generated_times
from odoo_sim.odoo.late import LateOrder, hide_order, reveal_order
from odoo_sim.odoo.methods import BaseModel
from odoo_sim.odoo.orders import OrderBook
from odoo_sim.odoo.profiles import PROFILES
from odoo_sim.odoo.tables import Tables
from odoo_sim.odoo.tenants import TenantCall
from odoo_sim.odoo.values import utcnow

Clock = Callable[[], datetime]


class OdooSim:
    """An in-memory Odoo database behind `POST /jsonrpc` (and JSON-2 where the version has it),
    plus a control API for tests and demos.

    Thread-safe: the uvicorn thread and test threads share it under one lock (`mutex`).
    """

    def __init__(
        self,
        database: str = "odoo_test",
        login: str = "admin",
        password: str = "admin",
        api_keys: list[str] | None = None,
        uid: int = 2,
        clock: Clock | None = None,
        version: str = "16.0",
        latency_seconds: float = 0.0,
    ) -> None:
        if version not in PROFILES:
            raise ValueError(f"unsupported Odoo version {version!r} (have {sorted(PROFILES)})")
        self.profile = PROFILES[version]
        self.database = database
        self.login = login
        self.uid = uid
        self.clock: Clock = clock or utcnow
        self.credentials = Credentials(database, login, password, list(api_keys or []))
        self.faults = Faults()
        self.latency_seconds = latency_seconds
        self.mutex = threading.RLock()
        self._log = CallLog()
        fields = {
            model: dict(described) for model, described in fields_for(self.profile.fieldset).items()
        }
        self.store = Tables(fields, self.profile)
        self.orders = OrderBook(self.store, uid, self._now, self.profile)
        self.app = build_app(self)

    def _now(self) -> datetime:
        return self.clock()

    @property
    def latency_seconds(self) -> float:
        """Added before answering every Odoo call over HTTP (faults add more)."""
        return self._latency

    @latency_seconds.setter
    def latency_seconds(self, seconds: float) -> None:
        if seconds < 0:
            raise SimError("latency_seconds must not be negative")
        self._latency = float(seconds)

    # ---- call log

    @property
    def calls(self) -> list[CallRecord]:
        """Every call received, oldest first (failed and faulted ones included)."""
        with self.mutex:
            return list(self._log.records)

    @property
    def faulted_calls(self) -> list[FaultedCall]:
        """The calls a fault applied to, with the fault kinds, oldest first."""
        with self.mutex:
            return list(self._log.faulted)

    def reset_calls(self) -> None:
        with self.mutex:
            self._log.clear()

    def call_counts(self) -> Counter[CallRecord]:
        with self.mutex:
            return self._log.counts()

    def log_call(self, call: CallRecord, fault_kinds: tuple[str, ...] = ()) -> None:
        with self.mutex:
            self._log.record(call, fault_kinds)

    def log_tenant_call(self, call: TenantCall) -> None:
        with self.mutex:
            self._log.tenant_calls.append(call)

    @property
    def tenant_calls(self) -> list[TenantCall]:
        """The calls made under a `/t/<tag>` prefix, in the order they ended."""
        with self.mutex:
            return list(self._log.tenant_calls)

    def dispatch(self, service: Any, method: Any, args: Any) -> Any:
        """`dispatch_rpc(service, method, args)`, logged: raises OdooFault like the server."""
        args = list(args) if isinstance(args, (list, tuple)) else []
        with self.mutex:
            self._log.record(jsonrpc.RpcRequest(None, service, method, args).record())
            return jsonrpc.dispatch(self, service, method, args)

    def execute(
        self,
        model: str,
        method: str,
        args: Sequence[Any] = (),
        kwargs: Mapping[str, Any] | None = None,
    ) -> Any:
        """`execute_kw` as the configured user without HTTP (logged like any call)."""
        call = [self.database, self.uid, self.credentials.password, model, method]
        return self.dispatch("object", "execute_kw", [*call, list(args), dict(kwargs or {})])

    # ---- control API: generic records

    def create(self, model: str, values: Mapping[str, Any]) -> int:
        """Insert a record as given (an explicit `id` and times are kept)."""
        with self.mutex:
            return self.store.create(model, values, self.clock(), self.uid)

    def write(self, model: str, ids: Iterable[int], values: Mapping[str, Any]) -> None:
        """Change records; `write_date` becomes the clock's time, like any Odoo write."""
        with self.mutex:
            self.store.write(model, list(ids), values, self.clock(), self.uid)

    def read(
        self, model: str, ids: Sequence[int], fields: Sequence[str] | None = None
    ) -> list[dict]:
        """Odoo's `read` answer, in process (not logged as a call)."""
        with self.mutex:
            return BaseModel(self.store, model, {}, list(ids)).read(fields)

    def enable_storable_products(self) -> None:
        """Play a server with the Inventory app: on 16/17 product types gain `product`, on
        18+ products gain `is_storable`. seed.py calls it before adding a storable product."""
        with self.mutex:
            with_storable_type(self.store.fields, self.profile.storable_flag)

    # ---- control API: orders

    def create_order(
        self,
        partner_id: int,
        lines: Sequence[Mapping[str, Any]],
        currency_id: int = 2,
        confirm: bool = True,
        client_order_ref: str | None = None,
        shipping_partner_id: int | None = None,
    ) -> dict[str, Any]:
        """A new quotation (confirmed unless `confirm=False`). Lines: `product_id`, `qty`,
        `price_unit` (default: list price), `discount` (default 0), or `display_type` + `name`;
        18+ also `combo_item_id` and `linked_line_id` (with an explicit line `id`).
        """
        with self.mutex:
            order_id = self.orders.insert(
                {
                    "partner_id": partner_id,
                    "partner_shipping_id": shipping_partner_id or partner_id,
                    "currency_id": currency_id,
                    "client_order_ref": client_order_ref or False,
                },
                lines,
            )
            if confirm:
                self.orders.confirm(order_id)
            return {"id": order_id, "name": self.orders.value(order_id, "name")}

    def insert_order(self, values: Mapping[str, Any], lines: Sequence[Mapping[str, Any]]) -> int:
        """Store an order as given (id, name, state and times may be explicit), computing the
        line names and amounts and the order totals. `create_order` is the everyday API.
        """
        with self.mutex:
            return self.orders.insert(values, lines)

    def confirm(self, order_id: int) -> dict[str, Any]:
        """Quotation -> sales order: `state` sale, `date_order` and `write_date` now."""
        with self.mutex:
            return self.orders.confirm(order_id)

    def cancel(self, order_id: int) -> dict[str, Any]:
        """Cancel (bumps `write_date`, as in Odoo)."""
        with self.mutex:
            return self.orders.cancel(order_id)

    def lock_order(self, order_id: int) -> dict[str, Any]:
        """Lock a sales order (16: state `done`; 17+: `locked` true); bumps `write_date`."""
        with self.mutex:
            return self.orders.lock(order_id)

    def touch(self, order_id: int) -> dict[str, Any]:
        """Bump `write_date` only, as any edit of the order would."""
        with self.mutex:
            return self.orders.touch(order_id)

    def begin_late_order(
        self,
        partner_id: int,
        lines: Sequence[Mapping[str, Any]],
        currency_id: int = 2,
        client_order_ref: str | None = None,
        shipping_partner_id: int | None = None,
    ) -> LateOrder:
        """A confirmed order whose `write_date` is now, invisible to every search and read
        until `commit()` (a long transaction that commits after newer orders showed up)."""
        with self.mutex:
            created = self.create_order(
                partner_id, lines, currency_id, True, client_order_ref, shipping_partner_id
            )
            hide_order(self.store, created["id"])
            written = self.orders.value(created["id"], "write_date")
            return LateOrder(self, created["id"], created["name"], written)

    def commit_late_order(self, order_id: int) -> dict[str, Any]:
        """Commit a late order: it becomes visible with its old `write_date`."""
        with self.mutex:
            reveal_order(self.store, order_id)
            return self.orders.summary(order_id)

    def add_generated_orders(
        self, n: int, lines_per_order: int = 5, same_second: bool = False
    ) -> range:
        """Bulk-create `n` confirmed orders for benchmarks; returns their ids.

        Their `write_date`s are just before the clock's now, 1 ms apart, or all inside the
        previous whole second with distinct microseconds when `same_second`.
        """
        if n <= 0:
            return range(0)
        if lines_per_order < 1:
            raise SimError("lines_per_order must be at least 1")
        with self.mutex:
            times = generated_times(self.clock(), n, same_second)
            return Generator(self.store, self.uid, lines_per_order, self.profile).add(times)
