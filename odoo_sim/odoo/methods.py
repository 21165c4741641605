"""The model methods reachable over RPC, with Odoo's signatures (so wrong arguments fail alike)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from odoo_sim.odoo.table import Row
from odoo_sim.odoo.tables import Tables


class BaseModel:
    """The model methods reachable over RPC, with Odoo's signatures (17+: `search` has no
    `count`; see `BaseModel16`)."""

    def __init__(
        self, store: Tables, model: str, context: Mapping[str, Any], ids: Any = None
    ) -> None:
        self._store = store
        self._model = model
        self._active_test = bool(context.get("active_test", True))
        self._ids = ids

    def search_read(
        self,
        domain: Any = None,
        fields: Any = None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        **read_kwargs: Any,
    ) -> list[dict]:
        """17+: the fields are checked before the search (`search_fetch`), and any other
        keyword goes to `_read_format`, which refuses what it does not know."""
        names = self._store.check_fields(self._model, fields)
        rows = self._store.search_rows(
            self._model, domain or [], offset, limit, order, self._active_test
        )
        return self._read_format(rows, names, **read_kwargs)

    def _read_format(self, rows: list[Row], fnames: list[str], load: Any = None) -> list[dict]:
        return self._store.read_rows(self._model, rows, fnames)

    def search(
        self, domain: Any, offset: int = 0, limit: int | None = None, order: str | None = None
    ) -> list[int]:
        rows = self._store.search_rows(self._model, domain, offset, limit, order, self._active_test)
        ids = self._store.tables[self._model].ids
        return [ids[row] for row in rows]

    def search_count(self, domain: Any, limit: int | None = None) -> int:
        return self._store.count_rows(self._model, domain, limit, self._active_test)

    def read(self, fields: Any = None, load: str = "_classic_read") -> list[dict]:
        names = self._store.check_fields(self._model, fields)
        ids = self._ids if isinstance(self._ids, (list, tuple)) else [self._ids]
        table = self._store.tables[self._model]
        rows = [row for row in map(table.visible_row, ids) if row is not None]
        return self._store.read_rows(self._model, rows, names)

    def fields_get(self, allfields: Any = None, attributes: Any = None) -> dict[str, dict]:
        result = {}
        for name, description in self._store.fields[self._model].items():
            if allfields and name not in allfields:
                continue
            result[name] = _describe(description, attributes)
        return result


class BaseModel16(BaseModel):
    """Odoo 16 still takes `search(..., count=True)`, and its `search_read` checks the fields
    only once something matched."""

    def search_read(
        self,
        domain: Any = None,
        fields: Any = None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        **read_kwargs: Any,
    ) -> list[dict]:
        rows = self._store.search_rows(
            self._model, domain or [], offset, limit, order, self._active_test
        )
        if not rows:
            return []
        names = [] if fields == ["id"] else self._store.check_fields(self._model, fields)
        return _read16(self, rows, names, **read_kwargs)

    def search(  # type: ignore[override]
        self,
        domain: Any,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
        count: bool = False,
    ) -> list[int] | int:
        if count:
            return self.search_count(domain, limit)
        return super().search(domain, offset, limit, order)

    search.__qualname__ = "BaseModel.search"  # as Odoo's TypeError messages name it


def _read16(recs: BaseModel, rows: list[Row], names: list[str], load: Any = None) -> list[dict]:
    """What 16's `search_read` hands to `read` (whose keywords it takes)."""
    return recs._read_format(rows, names)


_read16.__qualname__ = "BaseModel.read"  # as Odoo's TypeError messages name it


class Users:
    """`res.users`, of which the simulator only answers `context_get`."""

    def __init__(self, uid: int) -> None:
        self._uid = uid

    def context_get(self) -> dict[str, Any]:
        return {"lang": "en_US", "tz": False, "uid": self._uid}


def _describe(description: Mapping[str, Any], attributes: Any) -> dict[str, Any]:
    """Keep the asked attributes; Odoo 16 always adds `searchable: false` when it applies."""
    if not attributes:
        return dict(description)
    kept = {key: value for key, value in description.items() if key in attributes}
    if "searchable" in description:
        kept["searchable"] = description["searchable"]
    return kept


MODEL_METHODS = frozenset({"search_read", "search", "search_count", "fields_get"})
RECORD_METHODS = frozenset({"read"})
USERS_METHODS = frozenset({"context_get"})
PRIVATE = re.compile(r"^(_.*|init)$")


def is_private(name: Any) -> bool:
    return isinstance(name, str) and PRIVATE.match(name) is not None


def has_model(store: Tables, model: Any) -> bool:
    return model in store.tables or model == "res.users"


def has_method(model: Any, name: Any) -> bool:
    if model == "res.users":
        return name in USERS_METHODS
    return name in MODEL_METHODS or name in RECORD_METHODS


def bound_method(
    store: Tables,
    model: str,
    name: str,
    context: Any,
    ids: Any,
    uid: int,
    legacy_search: bool,
) -> Callable[..., Any]:
    """The method to call, on the records `ids` (checked with `has_model`/`has_method`)."""
    if model == "res.users":
        return getattr(Users(uid), name)
    cls = BaseModel16 if legacy_search else BaseModel
    recs = cls(store, model, context if isinstance(context, dict) else {}, ids)
    return getattr(recs, name)
