"""An OdooBundle built from the recorded real poll cycle."""

from __future__ import annotations

from poller.contract import ConnectionRef
from poller.odoo.fields import FieldMap
from poller.odoo.reader import OdooBundle, by_id
from poller.orders import MappingContext
from tests.support.wire import POLL_CYCLE, result

# The recording has no res.country.state read; state 22 is Illinois in Odoo's base data.
ILLINOIS = {"id": 22, "code": "IL"}


def recorded_products() -> list[dict]:
    """product.product as the poller reads it: `name`, `type` come through _inherits from the
    template, so the recorded template values are what Odoo returns for the variant."""
    templates = by_id(result(POLL_CYCLE, "read_templates"))
    products = []
    for product in result(POLL_CYCLE, "read_products"):
        template = templates[product["product_tmpl_id"][0]]
        products.append({**product, "name": template["name"], "type": template["type"]})
    return products


def recorded_bundle() -> OdooBundle:
    return OdooBundle(
        orders=by_id(result(POLL_CYCLE, "read_orders")),
        lines=by_id(result(POLL_CYCLE, "read_lines")),
        partners=by_id(result(POLL_CYCLE, "read_partners")),
        products=by_id(recorded_products()),
        currencies=by_id(result(POLL_CYCLE, "read_currencies")),
        uoms=by_id(result(POLL_CYCLE, "read_uoms")),
        countries=by_id(result(POLL_CYCLE, "read_countries")),
        states={22: ILLINOIS},
    )


def recorded_context(connection_id: int = 1) -> MappingContext:
    ref = ConnectionRef(
        id=connection_id,
        name="acme",
        odoo_url="https://acme.odoo.com",
        database="odoo_test",
        odoo_version="16.0",
    )
    return MappingContext(connection=ref, fields=FieldMap())
