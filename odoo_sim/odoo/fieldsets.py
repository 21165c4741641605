"""`fields_get` per version. 16.0, 18.0 and 19.0 are recordings of real servers
(`data/odoo16_fields_get.json`, `odoo18_...`, `odoo19_...`; the 18 and 19 ones lack the two
country models, which they take from 16). 17.0 is DERIVED from 16 by the documented changes:
`sale.order.state` (and the line's related `state`) lose `done`; `sale.order.locked` appears.

What the 18/19 recordings show beyond the documented changes: no `detailed_type` and no
`__last_update`; product `type` is consu/service/combo; lines have `combo_item_id` and
`linked_line_id`; 19 renames line `product_uom` -> `product_uom_id` and `tax_id` -> `tax_ids`,
adds `line_subsection`, and drops `res.partner.mobile` and `title`, `uom.uom.category_id`
and line `product_packaging_id`.

`is_storable` (18+) and the storable `product` type (16/17) come with the Inventory app, which
the recorded servers did not have: `with_storable_type` adds them once a storable product
exists (see seed.py).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

Fields = dict[str, dict[str, dict[str, Any]]]

RECORDED = {
    16: "odoo16_fields_get.json",
    18: "odoo18_fields_get.json",
    19: "odoo19_fields_get.json",
}
STORABLE = ["product", "Storable Product"]
_TYPE_FIELDS = (
    ("product.template", "type"),
    ("product.template", "detailed_type"),
    ("product.product", "type"),
    ("product.product", "detailed_type"),
    ("sale.order.line", "product_type"),
)


@cache
def load_fields(filename: str = RECORDED[16]) -> Fields:
    """A recorded `fields_get` of the simulated models (shared, never mutated)."""
    text = resources.files("odoo_sim").joinpath(f"data/{filename}").read_text("utf-8")
    return json.loads(text)


@cache
def fields_for(fieldset: int) -> Fields:
    """The `fields_get` of a version (shared, never mutated: copy a model before changing it)."""
    base = load_fields()
    if fieldset in RECORDED:
        recorded = load_fields(RECORDED[fieldset])
        return copy.deepcopy({model: recorded.get(model, base[model]) for model in base})
    fields = copy.deepcopy(base)
    _to_17(fields)
    return fields


def with_storable_type(fields: Fields, storable_flag: bool) -> None:
    """Install the Inventory app: 18+ products gain `is_storable`, 16/17 product types gain
    `product`. Changes the simulator's own per-model dicts in place; the shared field
    descriptions are replaced, never mutated."""
    if storable_flag:
        for model, stored in (("product.template", True), ("product.product", False)):
            fields[model].setdefault("is_storable", _field("boolean", "Track Inventory", stored))
        return
    for model, name in _TYPE_FIELDS:
        info = fields[model].get(name)
        if info is not None and STORABLE not in info["selection"]:
            fields[model][name] = {**info, "selection": [*info["selection"], STORABLE]}


def _field(ftype: str, string: str, store: bool = True, **extra: Any) -> dict[str, Any]:
    return {"required": False, "store": store, "string": string, "type": ftype, **extra}


def _to_17(fields: Fields) -> None:
    for model in ("sale.order", "sale.order.line"):
        state = fields[model]["state"]
        state["selection"] = [item for item in state["selection"] if item[0] != "done"]
    fields["sale.order"]["locked"] = _field("boolean", "Locked")
