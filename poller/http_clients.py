"""The HTTP clients a poll talks through: one to Odoo, one to the webhook receiver.

A per-connection run owns a pair; a fleet worker shares one pair among all its polls, so a
poll costs no client of its own (each holds a TLS context and a connection pool) and
connections to a shared host (Odoo Online, one StockMaster) are reused across tenants.
"""

from __future__ import annotations

import functools
import ssl
from dataclasses import dataclass

import httpx

from poller.settings import Settings


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client: building one loads the CA bundle (~60 ms of CPU)."""
    return ssl.create_default_context()


@dataclass(frozen=True)
class HttpClients:
    odoo: httpx.AsyncClient
    webhooks: httpx.AsyncClient

    @classmethod
    def open(cls, settings: Settings, *, polls_at_once: int = 1) -> HttpClients:
        """Clients sized for `polls_at_once` concurrent polls. Each poll bounds its own
        sends to `send_concurrency`; the pools only keep idle connections in proportion."""
        return cls(
            odoo=httpx.AsyncClient(
                timeout=settings.odoo_timeout_seconds,
                verify=tls_context(),
                limits=httpx.Limits(
                    max_connections=None, max_keepalive_connections=2 * polls_at_once
                ),
            ),
            webhooks=httpx.AsyncClient(
                timeout=settings.webhook_timeout_seconds,
                follow_redirects=False,
                verify=tls_context(),
                limits=httpx.Limits(
                    max_connections=settings.send_concurrency * polls_at_once,
                    max_keepalive_connections=settings.send_concurrency * polls_at_once,
                ),
            ),
        )

    async def aclose(self) -> None:
        await self.odoo.aclose()
        await self.webhooks.aclose()
