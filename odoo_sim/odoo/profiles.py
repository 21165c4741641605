"""The Odoo versions the simulator can play and what differs between them.

`fieldset` says which `fields_get` a profile answers (see `fieldsets.py`); Odoo Online's
saas~18.4 answers the 19.0 one (an assumption: the renames of 19.0 landed in the saas-18
series, and 19.0 was cut from it).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class VersionProfile:
    """Everything that differs between the Odoo versions the simulator can play."""

    series: str
    version_info: tuple[int | str, ...]
    error_code: int  # JSON-RPC `error.code`: 200 up to 18.0, 0 from saas~18.1 and 19.0
    fieldset: int  # 16, 17, 18 or 19
    json2: bool  # `/json/2/...` and `/web/version` (saas~18.4, 19.0)

    def version_payload(self) -> dict[str, Any]:
        """`common.version`."""
        return {
            "server_version": self.series,
            "server_version_info": list(self.version_info),
            "server_serie": self.series,
            "protocol_version": 1,
        }

    def web_version(self) -> dict[str, Any]:
        """`GET /web/version`."""
        return {"version_info": list(self.version_info), "version": self.series}

    @property
    def line_uom(self) -> str:
        return "product_uom_id" if self.fieldset >= 19 else "product_uom"

    @property
    def line_taxes(self) -> str:
        return "tax_ids" if self.fieldset >= 19 else "tax_id"

    @property
    def locked_field(self) -> bool:
        """17+: a boolean `locked` replaces the `done` state."""
        return self.fieldset >= 17

    @property
    def storable_flag(self) -> bool:
        """18+: storable goods are `type=consu` with `is_storable`, not `type=product`."""
        return self.fieldset >= 18

    @property
    def combos(self) -> bool:
        return self.fieldset >= 18

    @property
    def subsections(self) -> bool:
        return self.fieldset >= 19

    @property
    def search_count_kwarg(self) -> bool:
        """16 still takes `search(..., count=True)`; 17 removed the parameter."""
        return self.fieldset == 16


def _final(major: int) -> VersionProfile:
    return VersionProfile(
        f"{major}.0",
        (major, 0, 0, "final", 0, ""),
        error_code=200 if major <= 18 else 0,
        fieldset=major,
        json2=major >= 19,
    )


PROFILES: dict[str, VersionProfile] = {
    **{f"{major}.0": _final(major) for major in (16, 17, 18, 19)},
    "saas~18.4": VersionProfile(
        "saas~18.4", ("saas~18", 4, 0, "final", 0, ""), error_code=0, fieldset=19, json2=True
    ),
}
