"""A StockMaster-like webhook receiver: checks the shared secret and the Standard Webhooks
signature, records every delivery, spots redeliveries by `webhook-id`, and fails on request.

It verifies with the `standardwebhooks` library exactly as a real receiver would.

`keep_bodies=False` (benchmarks) records only webhook ids and counts, so that 100,000
deliveries stay small; `GET /stats` gives the counts either way.

Standalone: `python -m odoo_sim.receiver --port 8070 --secret S [--no-keep-bodies]`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any
from urllib.parse import urlencode

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from odoo_sim.server import serve_forever


def verifier(secret: str) -> Webhook:
    """`whsec_` secrets are base64 keys per the spec; any other secret is the raw key bytes."""
    return Webhook(secret) if secret.startswith("whsec_") else Webhook(secret.encode())


@dataclass
class Received:
    webhook_id: str
    body: dict[str, Any]
    headers: dict[str, str]
    received_at: float
    redelivery: bool


@dataclass
class FailurePlan:
    status: int
    remaining: int | None  # None: until cleared
    retry_after: str | None = None
    delay_seconds: float = 0.0
    echo_headers: bool = False


def echoed(headers: dict[str, str]) -> dict[str, Any]:
    """What a debugging gateway answers: the request's headers as sent, hex-dumped and as a
    query string, the ways such pages show them."""
    block = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return {
        "error": "bad request",
        "request_headers": headers,
        "hexdump": block.encode().hex(),
        "as_query": urlencode(headers),
    }


@dataclass
class Receiver:
    secret: str
    latency_seconds: float = 0.0  # added before every answer, to widen windows in tests
    on_delivery: Callable[[Received], None] | None = None  # runs on each accepted delivery
    keep_bodies: bool = True  # False: only ids and counts are kept (`deliveries` stays empty)
    deliveries: list[Received] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)
    failures_served: int = 0
    _plan: FailurePlan | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _seen: set[str] = field(default_factory=set)  # every accepted webhook-id
    _received: int = 0  # accepted deliveries, redeliveries included
    _redeliveries: int = 0

    # -- control (Python API; the same over HTTP under /control) -------------------------

    def fail(
        self,
        status: int = 500,
        count: int | None = None,
        retry_after: str | None = None,
        delay_seconds: float = 0.0,
        echo_headers: bool = False,
    ) -> None:
        """Answer the next `count` deliveries (all, when None) with `status`; with
        `echo_headers`, the body holds the request's headers (secret included)."""
        with self._lock:
            self._plan = FailurePlan(status, count, retry_after, delay_seconds, echo_headers)

    def recover(self) -> None:
        with self._lock:
            self._plan = None

    def reset(self) -> None:
        with self._lock:
            self.deliveries.clear()
            self.rejected.clear()
            self.failures_served = 0
            self._plan = None
            self._seen.clear()
            self._received = 0
            self._redeliveries = 0

    # -- views ---------------------------------------------------------------------------

    def unique(self) -> dict[str, Received]:
        """First delivery of each webhook-id."""
        with self._lock:
            first: dict[str, Received] = {}
            for item in self.deliveries:
                first.setdefault(item.webhook_id, item)
            return first

    def redeliveries(self) -> int:
        with self._lock:
            return self._redeliveries

    def stats(self) -> dict[str, int]:
        """Counts that hold with or without kept bodies."""
        with self._lock:
            return {
                "received": self._received,
                "unique": len(self._seen),
                "redeliveries": self._redeliveries,
                "rejected": len(self.rejected),
                "failures_served": self.failures_served,
            }

    def orders(self) -> dict[int, dict[str, Any]]:
        """The newest received body per Odoo order id."""
        latest: dict[int, dict[str, Any]] = {}
        for item in self.unique().values():
            latest[item.body["order"]["id"]] = item.body
        return latest

    # -- HTTP ----------------------------------------------------------------------------

    def _planned_failure(self) -> FailurePlan | None:
        with self._lock:
            plan = self._plan
            if plan is None:
                return None
            if plan.remaining is not None:
                plan.remaining -= 1
                if plan.remaining <= 0:
                    self._plan = None
            self.failures_served += 1
            return plan

    def _reject(self, status: int, reason: str) -> Response:
        with self._lock:
            self.rejected.append((status, reason))
        return JSONResponse({"error": reason}, status_code=status)

    async def receive(self, request: Request) -> Response:
        body = (await request.body()).decode()
        headers = {k.lower(): v for k, v in request.headers.items()}
        if self.latency_seconds:
            await asyncio.sleep(self.latency_seconds)
        plan = self._planned_failure()
        if plan is not None:
            if plan.delay_seconds:
                await asyncio.sleep(plan.delay_seconds)
            extra = {"Retry-After": plan.retry_after} if plan.retry_after else None
            body = echoed(headers) if plan.echo_headers else {"error": "told to fail"}
            return JSONResponse(body, status_code=plan.status, headers=extra)
        if headers.get("x-webhook-secret") != self.secret:
            return self._reject(401, "X-Webhook-Secret is missing or wrong")
        try:
            payload = verifier(self.secret).verify(body, headers)
        except WebhookVerificationError as exc:
            return self._reject(401, f"signature check failed: {exc}")
        webhook_id = headers["webhook-id"]
        with self._lock:
            seen = webhook_id in self._seen
            self._seen.add(webhook_id)
            self._received += 1
            self._redeliveries += seen
            if self.keep_bodies:
                received = Received(webhook_id, payload, headers, time.time(), seen)
                self.deliveries.append(received)
            else:
                received = Received(webhook_id, {}, {}, time.time(), seen)
        if self.on_delivery is not None:
            self.on_delivery(received)
        return JSONResponse({"ok": True, "redelivery": seen})

    async def control(self, request: Request) -> Response:
        action = request.path_params["action"]
        options = await request.json() if (await request.body()) else {}
        if action == "fail":
            self.fail(**options)
        elif action == "recover":
            self.recover()
        elif action == "reset":
            self.reset()
        else:
            return JSONResponse({"error": f"unknown action {action}"}, status_code=404)
        return JSONResponse({"ok": True})

    async def listing(self, _request: Request) -> Response:
        with self._lock:
            items = [
                {"webhook_id": d.webhook_id, "redelivery": d.redelivery, "body": d.body}
                for d in self.deliveries
            ]
        return Response(json.dumps(items), media_type="application/json")

    async def stats_endpoint(self, _request: Request) -> Response:
        return JSONResponse(self.stats())

    @cached_property
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/control/{action}", self.control, methods=["POST"]),
                Route("/deliveries", self.listing, methods=["GET"]),
                Route("/stats", self.stats_endpoint, methods=["GET"]),
                Route("/{path:path}", self.receive, methods=["POST"]),
            ]
        )


def main(argv: Sequence[str] | None = None) -> None:
    """`python -m odoo_sim.receiver --port 8070 --secret S [--no-keep-bodies]`."""
    parser = argparse.ArgumentParser(
        prog="python -m odoo_sim.receiver",
        description="Run the StockMaster-like webhook receiver over HTTP.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8070, help="0 picks a free port")
    parser.add_argument("--secret", required=True, help="the webhook secret (whsec_... or raw)")
    parser.add_argument(
        "--no-keep-bodies",
        action="store_false",
        dest="keep_bodies",
        help="record only webhook ids and counts (benchmarks)",
    )
    parser.add_argument(
        "--latency-seconds", type=float, default=0.0, help="added before every answer"
    )
    args = parser.parse_args(argv)
    receiver = Receiver(
        secret=args.secret, latency_seconds=args.latency_seconds, keep_bodies=args.keep_bodies
    )
    serve_forever(
        receiver.app,
        args.host,
        args.port,
        lambda port: (
            f"StockMaster receiver on http://{args.host}:{port} "
            "(POST any path, e.g. /webhooks; GET /stats)"
        ),
    )


if __name__ == "__main__":
    main()
