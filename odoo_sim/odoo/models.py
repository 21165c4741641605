"""The simulated models: default order, display names, computed fields, `_inherits` links
and the one2many fields kept in step with their many2one."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from odoo_sim.odoo.table import Row

if TYPE_CHECKING:
    from odoo_sim.odoo.tables import Tables

TAX_ID = 1

Compute = Callable[["Tables", Row], Any]


@dataclass(frozen=True)
class ModelSpec:
    order: str
    display: Compute
    computed: Mapping[str, Compute] = field(default_factory=dict)
    inherits: tuple[str, str] | None = None  # (parent model, link field), like `_inherits`
    order_18: str | None = None  # `_order` from 18 on, where it changed


def _name(model: str) -> Compute:
    return lambda store, row: store.raw(model, row, "name") or ""


def _code_name(code: Any, name: str) -> str:
    return f"[{code}] {name}" if code else name


def _partner_commercial_row(store: Tables, row: Row) -> Row:
    table = store.tables["res.partner"]
    for _ in range(32):
        parent = table.row(store.raw("res.partner", row, "parent_id"))
        if store.raw("res.partner", row, "is_company") or parent is None:
            break
        row = parent
    return row


def _partner_company_name(store: Tables, row: Row) -> Any:
    commercial = _partner_commercial_row(store, row)
    return (
        store.raw("res.partner", commercial, "name")
        if store.raw("res.partner", commercial, "is_company")
        else False
    )


def _partner_display(store: Tables, row: Row) -> str:
    name = store.raw("res.partner", row, "name") or ""
    parent = store.tables["res.partner"].row(store.raw("res.partner", row, "parent_id"))
    if parent is None or store.raw("res.partner", row, "is_company"):
        return name
    company = _partner_company_name(store, row) or store.raw("res.partner", parent, "name")
    return f"{company}, {name}"


def _product_display(store: Tables, row: Row) -> str:
    name = store.getter("product.product", "name")(row) or ""
    return _code_name(store.raw("product.product", row, "default_code"), name)


def _template_display(store: Tables, row: Row) -> str:
    name = store.raw("product.template", row, "name") or ""
    return _code_name(store.raw("product.template", row, "default_code"), name)


def _line_display(store: Tables, row: Row) -> str:
    order = store.related_raw("sale.order.line", row, "order_id", "name") or ""
    text = (store.raw("sale.order.line", row, "name") or "").split("\n")[0]
    return f"{order} - {text}"


def _state_display(store: Tables, row: Row) -> str:
    code = store.related_raw("res.country.state", row, "country_id", "code")
    return f"{store.raw('res.country.state', row, 'name')} ({code})"


def _variants(store: Tables, row: Row) -> tuple[int, ...]:
    return store.raw("product.template", row, "product_variant_ids")


MODELS: dict[str, ModelSpec] = {
    "sale.order": ModelSpec(
        "date_order desc, id desc",
        _name("sale.order"),
        {
            "type_name": lambda s, r: (
                "Quotation"
                if s.raw("sale.order", r, "state") in ("draft", "sent", "cancel")
                else "Sales Order"
            ),
        },
    ),
    "sale.order.line": ModelSpec(
        "order_id, sequence, id",
        _line_display,
        {
            "product_template_id": lambda s, r: s.related_raw(
                "sale.order.line", r, "product_id", "product_tmpl_id"
            ),
            "product_type": lambda s, r: s.related_value(
                "sale.order.line", r, "product_id", "type"
            ),
        },
    ),
    "res.partner": ModelSpec(
        "display_name, id desc",
        _partner_display,
        {
            "commercial_partner_id": lambda s, r: s.tables["res.partner"].ids[
                _partner_commercial_row(s, r)
            ],
            "commercial_company_name": _partner_company_name,
            "company_type": lambda s, r: (
                "company" if s.raw("res.partner", r, "is_company") else "person"
            ),
            "country_code": lambda s, r: s.related_raw("res.partner", r, "country_id", "code"),
            "parent_name": lambda s, r: s.related_raw("res.partner", r, "parent_id", "name"),
            "complete_name": _partner_display,
        },
        order_18="complete_name, id desc",
    ),
    "product.product": ModelSpec(
        "priority desc, default_code, name, id",
        _product_display,
        {
            "is_product_variant": lambda s, r: True,
            "code": lambda s, r: s.raw("product.product", r, "default_code"),
            "lst_price": lambda s, r: s.getter("product.product", "list_price")(r),
        },
        inherits=("product.template", "product_tmpl_id"),
        order_18="is_favorite desc, default_code, name, id",
    ),
    "product.template": ModelSpec(
        "priority desc, name",
        _template_display,
        {
            "product_variant_id": lambda s, r: (_variants(s, r) or (False,))[0],
            "product_variant_count": lambda s, r: len(_variants(s, r)),
            "uom_name": lambda s, r: s.related_raw("product.template", r, "uom_id", "name"),
        },
        order_18="is_favorite desc, name",
    ),
    "res.currency": ModelSpec("active desc, name", _name("res.currency")),
    "uom.uom": ModelSpec("factor desc, id", _name("uom.uom")),
    "res.country": ModelSpec("name", _name("res.country")),
    "res.country.state": ModelSpec("code", _state_display),
}

#: (child model, many2one) -> (parent model, its one2many), kept in step on create/write.
INVERSES: dict[tuple[str, str], tuple[str, str]] = {
    ("sale.order.line", "order_id"): ("sale.order", "order_line"),
    ("res.partner", "parent_id"): ("res.partner", "child_ids"),
    ("product.product", "product_tmpl_id"): ("product.template", "product_variant_ids"),
    ("res.country.state", "country_id"): ("res.country", "state_ids"),
}

#: Display names of records of models the simulator does not hold.
STUB_NAMES: dict[tuple[str, int], str] = {
    ("res.company", 1): "My Company",
    ("res.users", 1): "OdooBot",
    ("res.users", 2): "Administrator",
    ("product.category", 1): "All",
    ("account.tax", TAX_ID): "15%",
    ("uom.category", 1): "Unit",
    ("product.pricelist", 1): "Public Pricelist (USD)",
    ("crm.team", 1): "Sales",
}
