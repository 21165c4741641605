"""The HTTP clients a poll talks through: one to Odoo, one to the webhook receiver.

Each poll has its own, opened for it (0.2 ms each) and closed after it; the webhook client
only when the poll sends. Not shared among a fleet worker's polls: httpx's pool walks every
connection it holds for each request, and one pool serving a worker's hundred polls spent a
fifth of the worker's CPU doing so (py-spy, the fleet kill test's catch-up). Keeping a
poll's connections for its next poll would gain nothing either: idle connections expire
after 5 s, and a tenant is polled every minute or so.
"""

from __future__ import annotations

import functools
import ssl

import httpx

from poller.settings import Settings


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every client: building one loads the CA bundle (~60 ms of CPU)."""
    return ssl.create_default_context()


def odoo_client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(timeout=settings.odoo_timeout_seconds, verify=tls_context())


def webhook_client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        timeout=settings.webhook_timeout_seconds,
        follow_redirects=False,
        verify=tls_context(),
        limits=httpx.Limits(max_connections=settings.send_concurrency),
    )
