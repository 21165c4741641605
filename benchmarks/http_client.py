"""`python -m benchmarks.http_client [--posts 5000] [--concurrency 8]`: what one signed webhook
POST costs the sending process in CPU, with httpx (what the poller and the raw floor use)
and with a bare asyncio stream writing the same HTTP/1.1 request, against the same receiver
in its own process.

It explains the catch-up's ceiling: the raw floor spends most of its CPU here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rich.console import Console
from rich.table import Table

from benchmarks import harness
from benchmarks.catchup import environment

RESULTS = harness.repo_root() / "benchmarks" / "results" / "http_client.json"
LINES = [{"sku": f"SKU-{i:04d}", "qty": 1.0, "price": 12.5} for i in range(40)]
BODY = json.dumps({"event_type": "order.confirmed", "data": {"lines": LINES}})  # ~2 kB


def signed(index: int, secret: str) -> dict[str, str]:
    from poller.delivery.signing import signed_headers

    return signed_headers(
        event_id=f"evt_bench_{index}",
        body=BODY,
        secret=secret,
        connection_id=1,
        now=datetime.now(UTC),
    )


async def with_httpx(url: str, headers: list[dict[str, str]], concurrency: int) -> None:
    import httpx

    gate = asyncio.Semaphore(concurrency)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(limits=limits) as client:

        async def post(h: dict[str, str]) -> None:
            async with gate:
                (await client.post(url, content=BODY, headers=h)).raise_for_status()

        await asyncio.gather(*(post(h) for h in headers))


async def with_streams(url: str, headers: list[dict[str, str]], concurrency: int) -> None:
    """`concurrency` keep-alive connections, each sending its share one request at a time."""
    parts = urlsplit(url)
    body = BODY.encode()

    async def connection(mine: list[dict[str, str]]) -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        for h in mine:
            head = "".join(f"{k}: {v}\r\n" for k, v in h.items())
            writer.write(
                f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}"
                f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            status = await reader.readline()
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            assert status.split()[1] == b"200", status
        writer.close()
        await writer.wait_closed()

    await asyncio.gather(*(connection(headers[i::concurrency]) for i in range(concurrency)))


Sender = Callable[[str, list[dict[str, str]], int], Awaitable[None]]


def measure(
    receiver: harness.Service, sender: Sender, posts: int, concurrency: int, secret: str
) -> dict[str, float]:
    headers = [signed(i, secret) for i in range(posts)]  # signing is not what is measured
    harness.reset_receiver(receiver.url)
    cpu, receiver_cpu = harness.own_cpu_seconds(), receiver.cpu_seconds()
    started = time.perf_counter()
    asyncio.run(sender(f"{receiver.url}/webhooks", headers, concurrency))
    wall = time.perf_counter() - started
    stats = harness.receiver_stats(receiver.url)
    assert stats["unique"] == posts and stats["rejected"] == 0, stats
    return {
        "posts": posts,
        "client_cpu_ms_per_post": 1000 * (harness.own_cpu_seconds() - cpu) / posts,
        "receiver_cpu_ms_per_post": 1000 * (receiver.cpu_seconds() - receiver_cpu) / posts,
        "posts_per_second": posts / wall,
    }


def print_report(console: Console, data: dict[str, Any]) -> None:
    table = Table(
        title=f"One signed webhook POST of {len(BODY):,} bytes, {data['concurrency']} at a time, "
        f"to the receiver on loopback ({data['posts']:,} posts)"
    )
    for column in ("client", "client CPU ms/POST", "receiver CPU ms/POST", "POSTs/s"):
        table.add_column(column, justify="right")
    for name, label in (("httpx", "httpx.AsyncClient"), ("streams", "bare asyncio stream")):
        r = data[name]
        table.add_row(
            label,
            f"{r['client_cpu_ms_per_post']:.3f}",
            f"{r['receiver_cpu_ms_per_post']:.3f}",
            f"{r['posts_per_second']:.0f}",
        )
    console.print(table)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--posts", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    from poller.delivery.signing import generate_webhook_secret

    secret = generate_webhook_secret()
    data: dict[str, Any] = {"posts": args.posts, "concurrency": args.concurrency}
    with (
        tempfile.TemporaryDirectory(prefix="poller-bench-") as logs,
        harness.start_receiver(Path(logs), secret, "http") as receiver,
    ):
        measure(receiver, with_httpx, 100, args.concurrency, secret)  # warm up both sides
        for name, sender in (("httpx", with_httpx), ("streams", with_streams)):
            data[name] = measure(receiver, sender, args.posts, args.concurrency, secret)
    data["environment"] = environment()
    harness.publish(Console(width=150), args.json, data, print_report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
