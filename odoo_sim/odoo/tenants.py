"""Many tenants on one simulator: `/t/<tag>/...` reaches the same shop as `/...`, and every
Odoo call made under a tag is logged with its start and end, so a test with hundreds of
tenants can judge from the simulator's side who called when, and whether two polls of one
tenant ever ran at once."""

from __future__ import annotations

import time
from typing import Any, NamedTuple

SCOPE_KEY = "sim.tenant"
_PREFIX = "/t/"


class TenantCall(NamedTuple):
    tenant: str
    model: str | None
    odoo_method: str | None
    started: float  # epoch seconds, when the request reached the simulator
    ended: float  # when its answer was ready (latency and faults included)


class TenantPrefix:
    """ASGI middleware: strip a `/t/<tag>` prefix from the path and remember the tag."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if scope["type"] == "http" and path.startswith(_PREFIX):
            tag, _, rest = path[len(_PREFIX) :].partition("/")
            scope = {**scope, "path": "/" + rest, "raw_path": ("/" + rest).encode(), SCOPE_KEY: tag}
        await self.app(scope, receive, send)


def tenant_of(scope: dict[str, Any]) -> str | None:
    return scope.get(SCOPE_KEY)


def now() -> float:
    return time.time()
