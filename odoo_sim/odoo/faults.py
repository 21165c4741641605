"""Faults to inject into matching requests: what goes wrong, for which calls, and how often.

A fault matches a call by transport (`jsonrpc`, `json2`, `web` for `/web/version`, or `any`),
model and method (the Odoo method: `search_read`, or `version`/`authenticate` for `common`).
It counts the calls it matches and applies to the ones numbered `after` to `after + times - 1`
(`times=None`: until cleared). A `revoked_key` fault lasts until cleared unless given `times`.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, NamedTuple

from odoo_sim.odoo.errors import SimError

KINDS = ("latency", "http_status", "html", "truncated", "hang", "revoked_key", "odoo_error")
TRANSPORTS = ("any", "jsonrpc", "json2", "web")
HANG_SECONDS = 60.0


class Call(NamedTuple):
    """What a fault filter sees of a request."""

    transport: str
    model: str | None
    method: str | None


@dataclass
class Fault:
    kind: str
    transport: str = "any"
    model: str | None = None
    method: str | None = None
    after: int = 0
    times: int | None = 1
    seconds: float | None = None  # latency, hang
    status: int | None = None  # http_status (required), html (default 200)
    retry_after: str | None = None  # http_status: the Retry-After header
    body: str | None = None  # http_status, html: replaces the default body
    error: str | None = None  # odoo_error: the exception path, e.g. odoo.exceptions.AccessError
    message: str | None = None  # odoo_error
    id: int = 0
    matched: int = field(default=0, compare=False)  # matching calls seen so far
    applied: int = field(default=0, compare=False)  # of which it applied to

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise SimError(f"unknown fault kind {self.kind!r} (have {', '.join(KINDS)})")
        if self.transport not in TRANSPORTS:
            raise SimError(f"unknown transport {self.transport!r} (have {', '.join(TRANSPORTS)})")
        if self.kind == "http_status" and not isinstance(self.status, int):
            raise SimError("an http_status fault needs an integer `status`")
        if self.kind == "odoo_error" and not self.error:
            raise SimError("an odoo_error fault needs `error` (an exception path)")
        if self.after < 0 or (self.times is not None and self.times < 0):
            raise SimError("`after` and `times` must not be negative")
        if self.retry_after is not None:
            self.retry_after = str(self.retry_after)

    def matches(self, call: Call) -> bool:
        return (
            self.transport in ("any", call.transport)
            and self.model in (None, call.model)
            and self.method in (None, call.method)
        )

    def take(self) -> bool:
        """Count one matching call; True if the fault applies to it."""
        number = self.matched
        self.matched += 1
        if number < self.after or (self.times is not None and number >= self.after + self.times):
            return False
        self.applied += 1
        return True

    @property
    def remaining(self) -> int | None:
        if self.times is None:
            return None
        return max(0, self.after + self.times - max(self.matched, self.after))

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "remaining": self.remaining}


_OPTIONS = frozenset(f.name for f in fields(Fault)) - {"id", "matched", "applied"}


class Faults:
    """The simulator's active faults; thread-safe (the app and tests change them at once)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1

    def add(self, kind: str, **options: Any) -> Fault:
        """Inject a fault, e.g. `add("http_status", status=429, retry_after=2, times=3)`."""
        unknown = set(options) - _OPTIONS
        if unknown:
            raise SimError(f"unknown fault options: {sorted(unknown)}")
        if kind == "revoked_key":
            options.setdefault("times", None)
        fault = Fault(kind, **options)
        with self._lock:
            fault.id = self._next_id
            self._next_id += 1
            self._faults.append(fault)
        return fault

    def add_json(self, body: Any) -> list[Fault]:
        """One fault object or a list of them, as `POST /sim/faults` takes."""
        items = body if isinstance(body, list) else [body]
        if not all(isinstance(item, Mapping) and "kind" in item for item in items):
            raise SimError("a fault is a JSON object with a `kind`")
        return [self.add(**item) for item in items]

    def clear(self) -> int:
        with self._lock:
            count = len(self._faults)
            self._faults.clear()
            return count

    def __iter__(self) -> Any:
        with self._lock:
            return iter(list(self._faults))

    def __len__(self) -> int:
        with self._lock:
            return len(self._faults)

    def take(self, call: Call) -> list[Fault]:
        """The faults that apply to this call (each matching fault counts it)."""
        with self._lock:
            if not self._faults:
                return []
            return [fault for fault in self._faults if fault.matches(call) and fault.take()]
