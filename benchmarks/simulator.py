"""`python -m benchmarks.simulator`: the Odoo simulator of `python -m poller.sim.odoo`, with the
same arguments, served on a listening socket created as IPPROTO_TCP.

Why not `python -m poller.sim.odoo` itself: it binds `socket.socket(AF_INET, SOCK_STREAM)`,
whose `proto` is 0, and asyncio only sets TCP_NODELAY on accepted sockets whose `proto` is
IPPROTO_TCP. Without TCP_NODELAY every answer (uvicorn writes the head and the body
separately) waits for the client's delayed ACK: about 40 ms per Odoo call on loopback, which
would turn every benchmark into a measurement of Linux's delayed-ACK timer. Everything else
(the shop, the generated orders, the latency) is `poller.sim.odoo`'s own code.
"""

from __future__ import annotations

import argparse
import socket
from collections.abc import Sequence

import uvicorn

from poller.sim.odoo import cli


def serve(args: argparse.Namespace) -> None:
    from poller.sim.odoo import OdooSim
    from poller.sim.seed import seed_shop, seed_version_showcase

    sim = OdooSim(
        args.database,
        args.login,
        args.password,
        args.api_keys,
        version=args.odoo_version,
        latency_seconds=args.latency_seconds,
    )
    seed_shop(sim, anchor=None if args.recorded_times else sim.clock())
    if args.showcase:
        seed_version_showcase(sim)
    if args.generated:
        sim.add_generated_orders(args.generated, args.lines_per_order, args.same_second)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(1024)
    port = sock.getsockname()[1]
    print(
        f"Odoo {sim.profile.series} simulator on http://{args.host}:{port} "
        f"(database {args.database!r}, login {args.login!r})",
        flush=True,
    )
    config = uvicorn.Config(sim.app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


def main(argv: Sequence[str] | None = None) -> None:
    """`poller.sim.odoo`'s own argument parsing, then `serve` above."""
    original = cli.serve
    cli.serve = serve
    try:
        cli.main(argv)
    finally:
        cli.serve = original


if __name__ == "__main__":
    main()
