"""The records of every simulated model and the ORM-like operations on them: field access
(stored, computed, inherited, related), the JSON values `read` answers, create and write."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from odoo_sim.odoo import search
from odoo_sim.odoo.errors import SimError, SimNotFound, invalid_field
from odoo_sim.odoo.models import INVERSES, MODELS, STUB_NAMES
from odoo_sim.odoo.predicates import Getter
from odoo_sim.odoo.profiles import PROFILES, VersionProfile
from odoo_sim.odoo.table import Row, Table
from odoo_sim.odoo.values import X2MANY, format_datetime, is_null, stored_value


class Tables:
    """The records of every simulated model and the ORM-like operations on them (no locking)."""

    def __init__(
        self,
        fields: Mapping[str, Mapping[str, Mapping[str, Any]]],
        profile: VersionProfile = PROFILES["16.0"],
    ) -> None:
        self.fields = fields
        self.profile = profile  # how domains compare and errors read
        self.tables = {model: Table(model, fields[model]) for model in MODELS}

    # ---- field access

    def field(self, model: str, name: str) -> Mapping[str, Any] | None:
        return self.fields[model].get(name)

    def raw(self, model: str, row: Row, name: str) -> Any:
        table = self.tables[model]
        col = table.cols.get(name)
        return col[row] if col is not None else table.default(name)

    def related_raw(self, model: str, row: Row, link: str, name: str) -> Any:
        relation = self.fields[model][link]["relation"]
        target = self.tables[relation].row(self.raw(model, row, link))
        return False if target is None else self.raw(relation, target, name)

    def related_value(self, model: str, row: Row, link: str, name: str) -> Any:
        relation = self.fields[model][link]["relation"]
        target = self.tables[relation].row(self.raw(model, row, link))
        return False if target is None else self.getter(relation, name)(target)

    def getter(self, model: str, name: str) -> Getter:
        """Row -> stored value (many2one as an id, x2many as a tuple, datetimes as datetime)."""
        spec = MODELS[model]
        if name == "id":
            return self.tables[model].ids.__getitem__
        if name == "display_name":
            return lambda row: spec.display(self, row)
        if name == "__last_update":
            return self.getter(model, "write_date")
        compute = spec.computed.get(name)
        if compute is not None:
            return lambda row: compute(self, row)
        table = self.tables[model]
        col = table.cols.get(name)
        if col is not None:
            return col.__getitem__
        if spec.inherits and name in self.fields[spec.inherits[0]]:
            return self._inherited_getter(model, name)
        default = table.default(name)
        return lambda row: default

    def _inherited_getter(self, model: str, name: str) -> Getter:
        """A field the child takes from its `_inherits` parent (product <- template)."""
        parent_model, link = MODELS[model].inherits or ("", "")
        links = self.tables[model].cols.get(link)
        parent = self.tables[parent_model]
        get = self.getter(parent_model, name)
        default = self.tables[model].default(name)
        if links is None:
            return lambda row: default

        def inherited(row: Row) -> Any:
            target = parent.row(links[row])
            return default if target is None else get(target)

        return inherited

    def path_getter(self, model: str, path: Sequence[str]) -> Getter:
        get = self.getter(model, path[0])
        if len(path) == 1:
            return get
        relation = self.fields[model][path[0]]["relation"]
        table = self.tables[relation]
        sub = self.path_getter(relation, path[1:])

        def follow(row: Row) -> Any:
            target = table.row(get(row))
            return False if target is None else sub(target)

        return follow

    def path_field(self, model: str, path: Sequence[str]) -> Mapping[str, Any]:
        info = self.fields[model][path[0]]
        return info if len(path) == 1 else self.path_field(info["relation"], path[1:])

    def display_name(self, model: str, rid: int) -> str:
        table = self.tables.get(model)
        row = table.row(rid) if table is not None else None
        if row is None:
            return STUB_NAMES.get((model, rid), f"{model},{rid}")
        return MODELS[model].display(self, row)

    def reader(self, model: str, name: str) -> Callable[[Row], Any]:
        """Row -> the JSON value Odoo's `read` answers for the field."""
        info = self.fields[model][name]
        ftype = info["type"]
        get = self.getter(model, name)
        if ftype == "many2one":
            return self._many2one_reader(get, info["relation"])
        if ftype in X2MANY:
            return lambda row: list(get(row))
        if ftype == "datetime":
            return lambda row: format_datetime(get(row))
        if ftype == "date":
            return lambda row: value.isoformat() if (value := get(row)) else False
        if name in self.tables[model].cols:
            return get  # columns hold normalized values (see `stored_value`)
        if ftype in ("float", "monetary"):
            return lambda row: float(get(row) or 0.0)
        if ftype == "integer":
            return lambda row: int(get(row) or 0)
        if ftype == "boolean":
            return lambda row: bool(get(row))
        return get

    def _many2one_reader(self, get: Getter, relation: str) -> Callable[[Row], Any]:
        names: dict[int, str] = {}  # for one read: many rows share few related records

        def many2one(row: Row) -> Any:
            rid = get(row)
            if not rid:
                return False
            name = names.get(rid)
            if name is None:
                name = names[rid] = self.display_name(relation, rid)
            return [rid, name]

        return many2one

    # ---- search (see `search.py`)

    def search_rows(
        self,
        model: str,
        domain: Any,
        offset: int | None = 0,
        limit: int | None = None,
        order: str | None = None,
        active_test: bool = True,
    ) -> list[Row]:
        return search.search_rows(self, model, domain, offset, limit, order, active_test)

    def count_rows(
        self, model: str, domain: Any, limit: int | None = None, active_test: bool = True
    ) -> int:
        return search.count_rows(self, model, domain, limit, active_test)

    def name_search_ids(self, model: str, name: Any, op: str) -> list[int]:
        return search.name_search_ids(self, model, name, op)

    # ---- read

    def check_fields(self, model: str, fields: Any) -> list[str]:
        if not fields:
            return [name for name in self.fields[model] if name != "id"]
        for name in fields:
            if name not in self.fields[model]:
                raise invalid_field(model, name, self.profile.wording)
        return [name for name in dict.fromkeys(fields) if name != "id"]

    def read_rows(self, model: str, rows: Iterable[Row], names: Sequence[str]) -> list[dict]:
        readers = [(name, self.reader(model, name)) for name in names]
        ids = self.tables[model].ids
        result = []
        for row in rows:
            record: dict[str, Any] = {"id": ids[row]}
            for name, read in readers:
                record[name] = read(row)
            result.append(record)
        return result

    # ---- write

    def create(self, model: str, values: Mapping[str, Any], now: datetime, uid: int) -> int:
        table = self._table(model)
        vals = self._stored(model, values)
        rid = vals.pop("id", None) or table.next_id()
        vals = {"create_date": now, "write_date": now, "create_uid": uid, "write_uid": uid, **vals}
        table.insert(rid, vals)
        for name, value in vals.items():
            self._link(model, name, rid, value)
        return rid

    def write(
        self, model: str, ids: Iterable[int], values: Mapping[str, Any], now: datetime, uid: int
    ) -> None:
        table = self._table(model)
        vals = {**self._stored(model, values), "write_date": now, "write_uid": uid}
        vals.pop("id", None)
        for rid in ids:
            row = table.row(rid)
            if row is None:
                raise SimNotFound(f"{model} {rid} does not exist")
            for name, value in vals.items():
                col = table.column(name)
                if (model, name) in INVERSES:
                    self._unlink(model, name, rid, col[row])
                    self._link(model, name, rid, value)
                col[row] = value

    def _table(self, model: str) -> Table:
        table = self.tables.get(model)
        if table is None:
            raise SimError(f"the simulator has no model {model!r}")
        return table

    def _stored(self, model: str, values: Mapping[str, Any]) -> dict[str, Any]:
        unknown = set(values) - set(self.fields[model])
        if unknown:
            raise SimError(f"unknown fields on {model}: {sorted(unknown)}")
        return {
            name: value if name == "id" else stored_value(self.fields[model][name]["type"], value)
            for name, value in values.items()
        }

    def _link(self, model: str, name: str, rid: int, parent_id: Any) -> None:
        target = INVERSES.get((model, name))
        if target is None or is_null(parent_id):
            return
        parent = self.tables[target[0]]
        row = parent.row(parent_id)
        if row is not None:
            col = parent.column(target[1])
            col[row] = tuple(sorted({*col[row], rid}))

    def _unlink(self, model: str, name: str, rid: int, parent_id: Any) -> None:
        target = INVERSES.get((model, name))
        if target is None or is_null(parent_id):
            return
        parent = self.tables[target[0]]
        row = parent.row(parent_id)
        if row is not None:
            col = parent.column(target[1])
            col[row] = tuple(child for child in col[row] if child != rid)
