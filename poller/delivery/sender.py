"""One POST of one event. Redirects are not followed; the response is only classified here.

The receiver's answer is redacted whole before it is cut to an excerpt, so that no part of
an echoed secret survives at the cut.
"""

from __future__ import annotations

import httpx

from poller.delivery.classify import Outcome, classify_http_error, classify_response
from poller.http_headers import parse_retry_after
from poller.redact import Redactor


async def post_event(
    http: httpx.AsyncClient,
    url: str,
    body: str,
    headers: dict[str, str],
    *,
    redact: Redactor,
) -> Outcome:
    try:
        response = await http.post(
            url, content=body.encode(), headers=headers, follow_redirects=False
        )
    except httpx.HTTPError as exc:
        redact.exception(exc)  # in place: its text came from outside
        return classify_http_error(exc)
    return classify_response(
        response.status_code,
        redact(response.text) if response.status_code >= 300 else "",
        parse_retry_after(response.headers.get("retry-after")),
    )
