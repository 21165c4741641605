"""One POST of one event. Redirects are not followed; the response is only classified here."""

from __future__ import annotations

import httpx

from poller.delivery.classify import Outcome, classify_exception, classify_response
from poller.http_headers import parse_retry_after


async def post_event(
    http: httpx.AsyncClient, url: str, body: str, headers: dict[str, str]
) -> Outcome:
    try:
        response = await http.post(
            url, content=body.encode(), headers=headers, follow_redirects=False
        )
    except httpx.HTTPError as exc:
        return classify_exception(exc)
    return classify_response(
        response.status_code,
        response.text if response.status_code >= 300 else "",
        parse_retry_after(response.headers.get("retry-after")),
    )
