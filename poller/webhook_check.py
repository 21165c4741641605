"""Is the webhook URL where a receiver listens? Asked without a POST, which StockMaster could
take for an order: HEAD, then OPTIONS when the receiver does not do HEAD (405, or 501 as
Python's http.server answers).

The verdicts: a 2xx or 4xx other than 404 and 410 means a receiver is there; 401 and 403
too, though it then refuses the unsigned check and must accept signed POSTs; 404 and 410
mean the wrong URL; a redirect is wrong too, since deliveries do not follow redirects; a
5xx (other than a receiver doing neither HEAD nor OPTIONS) or no connection at all means
it cannot take deliveries now. The status is always printed.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from poller.delivery.signing import USER_AGENT
from poller.errors import one_line

NOT_SUPPORTED = frozenset({405, 501})


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    warning: str | None = None


async def check_webhook(url: str, http: httpx.AsyncClient) -> Check:
    headers = {"User-Agent": USER_AGENT}
    try:
        response = await http.head(url, headers=headers)
        asked = "HEAD"
        if response.status_code in NOT_SUPPORTED:
            head_status = response.status_code
            response = await http.options(url, headers=headers)
            asked = f"HEAD ({head_status}) and OPTIONS"
    except httpx.HTTPError as exc:
        return Check(
            "webhook", False, f"{url} is unreachable: {type(exc).__name__}: {one_line(exc)}"
        )
    return judge(url, asked, response.status_code, response.headers.get("location"))


def judge(url: str, asked: str, status: int, location: str | None = None) -> Check:
    """The verdict on a receiver that answered `status` to `asked`."""
    answered = f"{url} answers HTTP {status} to {asked}"
    if status in (404, 410):
        return Check("webhook", False, f"{answered}: no receiver at this URL; check the path")
    if 300 <= status < 400:
        where = f" to {location}" if location else ""
        return Check(
            "webhook",
            False,
            f"{answered}: it redirects{where}, and deliveries do not follow redirects; "
            "use the final URL",
        )
    if status in (401, 403):
        return Check(
            "webhook",
            True,
            answered,
            warning="it refuses unsigned requests: make sure StockMaster accepts the poller's "
            "signed POSTs (the first delivery will tell)",
        )
    if status in NOT_SUPPORTED:
        return Check(
            "webhook",
            True,
            answered,
            warning="it does neither HEAD nor OPTIONS, so only the first delivery will tell "
            "whether it takes signed POSTs",
        )
    if status >= 500:
        return Check("webhook", False, f"{answered}: the receiver is failing; try again later")
    return Check("webhook", True, answered)
