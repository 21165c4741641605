"""An in-memory Odoo that speaks JSON-RPC (and JSON-2 on 19.0 / saas~18.4) over real HTTP,
shaped after recorded Odoo 16.0, 18.0 and 19.0 answers, with version profiles 16.0 to 19.0 and
fault injection.

The ground truth is `tests/fixtures/odoo16|18|19/` (the shared odoo-wire recordings): value
shapes, error envelopes and statuses, `fields_get`, and the `write_date` rule (stored with
microseconds, returned truncated to whole seconds, compared in domains against the stored value
up to 18 and by whole second on 19) follow those recordings; tests/sim/test_recordings.py
replays every recorded 18/19 call. 17.0 is derived from 16.0 (see `fieldsets`).

One idea per module: `values` (field values), `table` (column storage), `models` (model specs),
`domain`/`predicates`/`compiler` (domains), `ordering`, `search`, `store` (the ORM), `methods`
(RPC-callable model methods), `auth`, `jsonrpc` (`/jsonrpc`), `json2` (`/json/2/...`),
`errors`, `profiles` and `fieldsets` (versions), `orders`, `late` and `generate` (writing
orders), `calllog`, `faults` and `wire` (fault injection), `control` (`/sim/...` HTTP API),
`app` (Starlette), `sim` (`OdooSim`), `cli` (standalone).

Standalone: `python -m odoo_sim.odoo --port 8069 [--version 19.0] [--generated N]`.
"""

from odoo_sim.odoo.calllog import CallRecord, FaultedCall
from odoo_sim.odoo.cli import main
from odoo_sim.odoo.errors import OdooFault, SimConflict, SimError, SimNotFound
from odoo_sim.odoo.faults import Fault, Faults
from odoo_sim.odoo.late import LateOrder
from odoo_sim.odoo.profiles import PROFILES, VersionProfile
from odoo_sim.odoo.sim import OdooSim
from odoo_sim.odoo.values import naive_utc, utcnow

__all__ = [
    "PROFILES",
    "CallRecord",
    "Fault",
    "FaultedCall",
    "Faults",
    "LateOrder",
    "OdooFault",
    "OdooSim",
    "SimConflict",
    "SimError",
    "SimNotFound",
    "VersionProfile",
    "main",
    "naive_utc",
    "utcnow",
]
