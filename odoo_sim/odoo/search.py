"""`search` and `search_count` over a table: archived records hidden unless asked, uncommitted
records always hidden, the `id` fast path for id-ordered pages, then filter-and-sort."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from odoo_sim.odoo.compiler import DomainCompiler, id_range
from odoo_sim.odoo.domain import LIKE_OPERATORS
from odoo_sim.odoo.ordering import order_terms, sort_rows
from odoo_sim.odoo.predicates import (
    Pred,
    both,
    compare_predicate,
    in_predicate,
    like_predicate,
)
from odoo_sim.odoo.table import Row, Table

if TYPE_CHECKING:
    from odoo_sim.odoo.tables import Tables


def search_rows(
    store: Tables,
    model: str,
    domain: Any,
    offset: int | None = 0,
    limit: int | None = None,
    order: str | None = None,
    active_test: bool = True,
) -> list[Row]:
    pred, rows = _matcher(store, model, domain, active_test)
    terms = order_terms(store, model, order)
    start = offset or 0
    stop = start + limit if limit else None
    if terms and terms[0][0] == ("id",):
        ordered = reversed(rows) if terms[0][1] else rows
        return list(itertools.islice(filter(pred, ordered), start, stop))
    matched = sort_rows(store, model, list(filter(pred, rows)), terms)
    return matched[start:stop]


def count_rows(
    store: Tables, model: str, domain: Any, limit: int | None = None, active_test: bool = True
) -> int:
    pred, rows = _matcher(store, model, domain, active_test)
    return sum(1 for _ in itertools.islice(filter(pred, rows), limit or None))


def name_search_ids(store: Tables, model: str, name: Any, op: str) -> list[int]:
    """Ids whose display name matches, like `_name_search` with `active_test=False`."""
    get = store.getter(model, "display_name")
    if op in ("in", "not in"):
        pred = in_predicate("char", get, op, name)
    elif op in LIKE_OPERATORS:
        pred = like_predicate(get, op, name, str)
    else:
        pred = compare_predicate("char", get, op, name)
    table = store.tables[model]
    return [table.ids[row] for row in range(len(table)) if pred(row) and _visible(table, row)]


def _matcher(
    store: Tables, model: str, domain: Any, active_test: bool
) -> tuple[Pred, Sequence[Row]]:
    """The predicate of the domain (uncommitted rows left out) and the rows it must scan."""
    node = DomainCompiler(store, model).compile(active_domain(store, model, domain, active_test))
    table = store.tables[model]
    rows = id_range(table.ids, node.conj)
    if not table.hidden:
        return node.pred, rows
    return both(node.pred, lambda row: _visible(table, row)), rows


def _visible(table: Table, row: Row) -> bool:
    return not table.hidden or table.ids[row] not in table.hidden


def active_domain(store: Tables, model: str, domain: Any, active_test: bool) -> Any:
    """Hide archived records unless `active_test` is off or the domain names `active`."""
    if not active_test or "active" not in store.fields[model]:
        return domain
    if not isinstance(domain, (list, tuple)):
        return domain
    for item in domain:
        if isinstance(item, (list, tuple)) and item and item[0] == "active":
            return domain
    return [("active", "=", True), *domain]
