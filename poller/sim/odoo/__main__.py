"""`python -m poller.sim.odoo`: run the simulator over HTTP (see `cli.py`)."""

from poller.sim.odoo.cli import main

main()
