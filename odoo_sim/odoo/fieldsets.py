"""`fields_get` per version. 16.0 is the recording (`data/odoo16_fields_get.json`); 17, 18 and 19
are DERIVED from it by applying the changes listed in odoo-wire/README.md ("Fields that move")
plus their direct consequences, not recorded from real servers:

- 17: `sale.order.state` (and the line's related `state`) lose `done`; `sale.order.locked`.
- 18: product `type` is consu/service/combo (`detailed_type` is gone) plus `is_storable`;
  lines gain `combo_item_id` and `linked_line_id`.
- 19: line `product_uom` -> `product_uom_id`, `tax_id` -> `tax_ids`, `display_type` gains
  `line_subsection`; `res.partner.mobile` is gone.

The recorded 16 server had no Inventory app, so its product type has no `product` (storable);
`with_storable_type` adds it for 16 and 17 once a storable product exists (see seed.py).
"""

from __future__ import annotations

import copy
import json
from functools import cache
from importlib import resources
from typing import Any

Fields = dict[str, dict[str, dict[str, Any]]]

RECORDED = "odoo16_fields_get.json"
STORABLE = ["product", "Storable Product"]
_TYPE_FIELDS = (
    ("product.template", "type"),
    ("product.template", "detailed_type"),
    ("product.product", "type"),
    ("product.product", "detailed_type"),
    ("sale.order.line", "product_type"),
)


@cache
def load_fields(filename: str = RECORDED) -> Fields:
    """A recorded `fields_get` of every simulated model (shared, never mutated)."""
    text = resources.files("odoo_sim").joinpath(f"data/{filename}").read_text("utf-8")
    return json.loads(text)


@cache
def fields_for(fieldset: int) -> Fields:
    """The `fields_get` of a version (shared, never mutated: copy a model before changing it)."""
    fields = copy.deepcopy(load_fields())
    for version, change in ((17, _to_17), (18, _to_18), (19, _to_19)):
        if fieldset >= version:
            change(fields)
    return fields


def with_storable_type(fields: Fields) -> None:
    """16/17 with the Inventory app: product types gain `product`. Changes the simulator's own
    per-model dicts in place; the shared field descriptions are replaced, never mutated."""
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


def _to_18(fields: Fields) -> None:
    goods = [["consu", "Goods"], ["service", "Service"], ["combo", "Combo"]]
    for model, stored in (("product.template", True), ("product.product", False)):
        fields[model].pop("detailed_type", None)
        fields[model]["type"]["selection"] = copy.deepcopy(goods)
        fields[model]["is_storable"] = _field("boolean", "Track Inventory", stored)
    fields["sale.order.line"]["product_type"]["selection"] = copy.deepcopy(goods)
    line = fields["sale.order.line"]
    line["combo_item_id"] = _field("many2one", "Combo Item", relation="product.combo.item")
    line["linked_line_id"] = _field("many2one", "Linked Order Line", relation="sale.order.line")


def _to_19(fields: Fields) -> None:
    line = fields["sale.order.line"]
    renames = {"product_uom": ("product_uom_id", "Unit"), "tax_id": ("tax_ids", "Taxes")}
    fields["sale.order.line"] = {
        renames[name][0] if name in renames else name: (
            {**info, "string": renames[name][1]} if name in renames else info
        )
        for name, info in line.items()
    }
    display = fields["sale.order.line"]["display_type"]
    display["selection"] = [*display["selection"], ["line_subsection", "Subsection"]]
    fields["res.partner"].pop("mobile")
