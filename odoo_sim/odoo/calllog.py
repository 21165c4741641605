"""The log of every call the simulator received, for tests that count Odoo calls."""

from __future__ import annotations

from collections import Counter
from typing import NamedTuple

from odoo_sim.odoo.tenants import TenantCall


class CallRecord(NamedTuple):
    service: str | None  # "common", "object", "json2" or "web" (`GET /web/version`)
    method: str | None  # the JSON-RPC method (None for JSON-2)
    model: str | None
    odoo_method: str | None


class FaultedCall(NamedTuple):
    call: CallRecord
    kinds: tuple[str, ...]  # the kinds of the faults that applied to it


class CallLog:
    """Append-only, oldest first; the owner serializes access with its lock."""

    def __init__(self) -> None:
        self.records: list[CallRecord] = []
        self.faulted: list[FaultedCall] = []
        self.tenant_calls: list[TenantCall] = []  # calls made under `/t/<tag>`, as they ended

    def record(self, call: CallRecord, fault_kinds: tuple[str, ...] = ()) -> None:
        self.records.append(call)
        if fault_kinds:
            self.faulted.append(FaultedCall(call, fault_kinds))

    def clear(self) -> None:
        self.records.clear()
        self.faulted.clear()
        self.tenant_calls.clear()

    def counts(self) -> Counter[CallRecord]:
        return Counter(self.records)
