"""One model's records stored column by column, rows kept in ascending id order."""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Any

from odoo_sim.odoo.errors import SimConflict
from odoo_sim.odoo.values import type_default

Row = int  # a record's position in its table


class Table:
    """One model's records, column by column, in ascending id order (a row is a position)."""

    def __init__(self, model: str, fields: Mapping[str, Mapping[str, Any]]) -> None:
        self.model = model
        self.fields = fields
        self.ids: list[int] = []
        self.cols: dict[str, list[Any]] = {}
        self.hidden: set[int] = set()  # ids written by a transaction not committed yet

    def __len__(self) -> int:
        return len(self.ids)

    def next_id(self) -> int:
        return self.ids[-1] + 1 if self.ids else 1

    def row(self, rid: Any) -> Row | None:
        if not isinstance(rid, int) or isinstance(rid, bool):
            return None
        pos = bisect.bisect_left(self.ids, rid)
        return pos if pos < len(self.ids) and self.ids[pos] == rid else None

    def visible_row(self, rid: Any) -> Row | None:
        """The row of `rid` if other transactions can see it."""
        return None if rid in self.hidden else self.row(rid)

    def default(self, name: str) -> Any:
        return type_default(self.fields[name]["type"])

    def column(self, name: str) -> list[Any]:
        col = self.cols.get(name)
        if col is None:
            col = self.cols[name] = [self.default(name)] * len(self.ids)
        return col

    def insert(self, rid: int, values: Mapping[str, Any]) -> Row:
        if self.row(rid) is not None:
            raise SimConflict(f"{self.model} {rid} already exists")
        pos = bisect.bisect_left(self.ids, rid)
        self.ids.insert(pos, rid)
        for name, col in self.cols.items():
            col.insert(pos, values[name] if name in values else self.default(name))
        for name in values.keys() - self.cols.keys():
            self.column(name)[pos] = values[name]
        return pos

    def extend(self, ids: Sequence[int], columns: Mapping[str, list[Any]]) -> None:
        """Append many rows at once; their ids must all be above the existing ones."""
        if self.ids and ids and ids[0] <= self.ids[-1]:
            raise SimConflict(f"{self.model}: bulk ids must follow {self.ids[-1]}")
        for name in columns.keys() - self.cols.keys():
            self.column(name)
        self.ids.extend(ids)
        for name, col in self.cols.items():
            col.extend(columns[name] if name in columns else [self.default(name)] * len(ids))
