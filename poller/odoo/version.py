"""Odoo server versions as `common.version` or `GET /web/version` report them, including Odoo
Online's `saas~18.1` and nightly builds (`"version": "19.0+e-20251227"`)."""

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
        """The serie as Odoo derives it: `server_serie`, else the first two items of the
        version info, else the start of the version string (a build suffix dropped)."""
        serie = str(info.get("server_serie") or "") or _serie_of_info(
            info.get("server_version_info") or info.get("version_info")
        )
        if not serie:
            text = str(info.get("server_version") or info.get("version") or "")
            found = _SERIE.match(text)
            serie = found.group(0) if found else text
        match = _SERIE.match(serie)
        if not match:
            raise ValueError(f"unrecognised Odoo version {serie!r}")
        return cls(serie=serie, major=int(match.group(1)), minor=int(match.group(2) or 0))


def _serie_of_info(version_info: Any) -> str:
    """`[19, 0, 0, "final", 0, ""]` -> "19.0"; `["saas~18", 4, ...]` -> "saas~18.4"."""
    if not isinstance(version_info, (list, tuple)) or len(version_info) < 2:
        return ""
    serie = f"{version_info[0]}.{version_info[1]}"
    return serie if _SERIE.fullmatch(serie) else ""
