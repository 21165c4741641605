"""Odoo server versions as `common.version` reports them, including Odoo Online's `saas~18.1`."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel

SUPPORTED_MAJORS = range(16, 20)
_SERIE = re.compile(r"(?:saas~)?(\d+)(?:\.(\d+))?")


class ServerVersion(BaseModel):
    serie: str
    major: int
    minor: int = 0

    @property
    def is_saas(self) -> bool:
        return self.serie.startswith("saas")

    @property
    def has_json2(self) -> bool:
        """JSON-2 exists from saas-18.4 and 19.0 on."""
        return (self.major, self.minor) >= (18, 4) and (self.is_saas or self.major >= 19)

    @classmethod
    def parse(cls, info: dict[str, Any]) -> ServerVersion:
        serie = str(
            info.get("server_serie") or info.get("server_version") or info.get("version") or ""
        )
        match = _SERIE.match(serie)
        if not match:
            raw = (info.get("server_version_info") or info.get("version_info") or [None])[0]
            match = _SERIE.match(str(raw or ""))
            serie = serie or str(raw or "")
        if not match:
            raise ValueError(f"unrecognised Odoo version {serie!r}")
        return cls(serie=serie, major=int(match.group(1)), minor=int(match.group(2) or 0))
