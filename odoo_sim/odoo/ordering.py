"""`order` specifications: validation, many2one terms expanded to the comodel's `_order`, and a
stable multi-key sort with PostgreSQL's null placement."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from odoo_sim.odoo.errors import OdooFault, value_error
from odoo_sim.odoo.models import MODELS
from odoo_sim.odoo.predicates import Getter
from odoo_sim.odoo.table import Row
from odoo_sim.odoo.values import X2MANY, is_null

if TYPE_CHECKING:
    from odoo_sim.odoo.tables import Tables

_ORDER_RE = re.compile(
    r'^(\s*([a-z0-9:_]+|"[a-z0-9:_]+")(\s+(desc|asc))?\s*(,|$))+(?<!,)$', re.IGNORECASE
)
OrderTerm = tuple[tuple[str, ...], bool]  # (field path, descending)


def order_terms(store: Tables, model: str, order: str | None) -> list[OrderTerm]:
    spec = order or default_order(store, model)
    if not _ORDER_RE.match(spec):
        raise OdooFault(
            "odoo.exceptions.UserError",
            f'Invalid "order" specified ({spec}). A valid "order" specification is a '
            "comma-separated list of valid field names (optionally followed by asc/desc "
            "for the direction)",
        )
    terms: list[OrderTerm] = []
    seen: set[tuple[str, str]] = set()
    for name, desc in _order_parts(spec):
        terms += _expand(store, model, name, desc, (), seen)
    return terms


def default_order(store: Tables, model: str) -> str:
    """The model's `_order` in the store's version (18 changed a few)."""
    spec = MODELS[model]
    if spec.order_18 and store.profile.fieldset >= 18:
        return spec.order_18
    return spec.order


def sort_rows(store: Tables, model: str, rows: list[Row], terms: Sequence[OrderTerm]) -> list[Row]:
    """Stable multi-key sort; nulls last ascending and first descending, like PostgreSQL."""
    for path, desc in reversed(terms):
        boolean = store.path_field(model, path)["type"] == "boolean"
        rows.sort(key=_sort_key(store.path_getter(model, path), boolean), reverse=desc)
    return rows


def _order_parts(spec: str) -> list[tuple[str, bool]]:
    parts = []
    for part in spec.split(","):
        words = part.split()
        parts.append((words[0].strip('"'), len(words) > 1 and words[1].lower() == "desc"))
    return parts


def _expand(
    store: Tables,
    model: str,
    name: str,
    desc: bool,
    prefix: tuple[str, ...],
    seen: set[tuple[str, str]],
) -> list[OrderTerm]:
    """Odoo orders a many2one by its comodel's `_order` (directions flipped when desc)."""
    info = store.field(model, name)
    if info is None:
        raise value_error(f"Invalid field {name!r} on model {model!r}", "order")
    if not _sortable(store, model, name):
        return []  # Odoo 16 logs "cannot be sorted on field" and ignores the term
    relation = info.get("relation")
    if info["type"] != "many2one" or relation not in store.tables or (model, name) in seen:
        return [((*prefix, name), desc)]
    seen.add((model, name))
    terms: list[OrderTerm] = []
    for sub_name, sub_desc in _order_parts(default_order(store, relation)):
        terms += _expand(store, relation, sub_name, sub_desc != desc, (*prefix, name), seen)
    return terms


def _sortable(store: Tables, model: str, name: str) -> bool:
    info = store.fields[model][name]
    if info["type"] in X2MANY:
        return False
    if info["store"]:
        return True
    inherits = MODELS[model].inherits
    parent = store.field(inherits[0], name) if inherits else None
    return bool(parent and parent["store"])


def _sort_key(get: Getter, boolean: bool) -> Callable[[Row], tuple[int, Any]]:
    """Nulls sort after every value (booleans are never null: Odoo orders COALESCE(f, false))."""

    def key(row: Row) -> tuple[int, Any]:
        value = get(row)
        if boolean:
            return (0, bool(value))
        return (1, 0) if is_null(value) else (0, value)

    return key
