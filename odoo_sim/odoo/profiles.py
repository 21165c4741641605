"""The Odoo versions the simulator can play and what differs between them.

16.0, 18.0 and 19.0 follow recordings of real servers (`tests/fixtures/odoo16|18|19/`); 17.0
is derived from 16 by the documented changes. `fieldset` says which `fields_get` a profile
answers (see `fieldsets.py`); Odoo Online's saas~18.4 answers the 19.0 one and behaves like
19.0 wherever 19.0 changed something (an assumption: 19.0 was cut from the saas-18 series).
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
    json2: bool  # `/json/2/...`, `/web/version` and `/json/version` (saas~18.4, 19.0)
    build: str = ""  # `server_version` when it is more than the series ("18.0-20250702")

    @property
    def server_version(self) -> str:
        return self.build or self.series

    def version_payload(self) -> dict[str, Any]:
        """`common.version`."""
        return {
            "server_version": self.server_version,
            "server_version_info": list(self.version_info),
            "server_serie": self.series,
            "protocol_version": 1,
        }

    def web_version(self) -> dict[str, Any]:
        """`GET /web/version` (and `/json/version`)."""
        return {"version_info": list(self.version_info), "version": self.server_version}

    @property
    def wording(self) -> int:
        """Whose error messages the profile answers with: 16 (also 17), 18 or 19."""
        return 16 if self.fieldset < 18 else self.fieldset

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

    @property
    def whole_second_datetimes(self) -> bool:
        """19 compares datetimes in domains by whole second (`> T` is `>= T + 1 s`, `= T`
        matches all of second T); 16-18 compare the stored microseconds."""
        return self.fieldset >= 19


def _final(major: int, build: str = "") -> VersionProfile:
    return VersionProfile(
        f"{major}.0",
        (major, 0, 0, "final", 0, ""),
        error_code=200 if major <= 18 else 0,
        fieldset=major,
        json2=major >= 19,
        build=build,
    )


#: The builds the 18.0 and 19.0 recordings were made on (19's is a stripped Enterprise nightly).
BUILDS = {18: "18.0-20250702", 19: "19.0+e-20251227"}

PROFILES: dict[str, VersionProfile] = {
    **{f"{major}.0": _final(major, BUILDS.get(major, "")) for major in (16, 17, 18, 19)},
    "saas~18.4": VersionProfile(
        "saas~18.4", ("saas~18", 4, 0, "final", 0, ""), error_code=0, fieldset=19, json2=True
    ),
}
