"""`python -m odoo_sim.odoo`: run the simulator over HTTP (see `cli.py`)."""

from odoo_sim.odoo.cli import main

main()
