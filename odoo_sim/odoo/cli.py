"""Standalone: `python -m odoo_sim.odoo --port 8069 [--host 127.0.0.1] [--generated N]`."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from odoo_sim.odoo.profiles import PROFILES
from odoo_sim.odoo.sim import OdooSim
from odoo_sim.server import serve_forever


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m odoo_sim.odoo", description="Run the Odoo simulator over HTTP."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8069, help="0 picks a free port")
    parser.add_argument(
        "--generated",
        type=int,
        default=0,
        metavar="N",
        help="also bulk-create N confirmed orders (benchmarks)",
    )
    parser.add_argument("--lines-per-order", type=int, default=5)
    parser.add_argument(
        "--same-second",
        action="store_true",
        help="give the generated orders one whole-second write_date",
    )
    parser.add_argument("--version", default="16.0", choices=sorted(PROFILES), dest="odoo_version")
    parser.add_argument(
        "--showcase",
        action="store_true",
        help="also add the orders that exercise version differences (seed_version_showcase)",
    )
    parser.add_argument(
        "--latency-seconds", type=float, default=0.0, help="added before every Odoo answer"
    )
    parser.add_argument("--database", default="odoo_test")
    parser.add_argument("--login", default="admin")
    parser.add_argument("--password", default="admin")
    parser.add_argument("--api-key", action="append", default=[], dest="api_keys")
    parser.add_argument(
        "--recorded-times",
        action="store_true",
        help="keep the recorded 2026-11-28 times instead of ending at now",
    )
    args = parser.parse_args(argv)
    serve(args)


def serve(args: argparse.Namespace) -> None:
    from odoo_sim.seed import seed_shop, seed_version_showcase  # seed imports this package

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
    serve_forever(
        sim.app,
        args.host,
        args.port,
        lambda port: (
            f"Odoo {sim.profile.series} simulator on http://{args.host}:{port} "
            f"(database {args.database!r}, login {args.login!r})"
        ),
    )
