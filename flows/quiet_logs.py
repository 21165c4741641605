"""Prefect's own log lines about an API it cannot reach, cut to one line each.

While the Prefect server restarts, Prefect's websocket observers warn with a full traceback,
its engine logs one for a state it could not report, and its events worker logs every event
it could not send, whole. What an operator needs is that the API was away, once a line: the
record keeps its message and the exception's name and text, and drops the traceback.
Exceptions that are not about reaching the API keep their tracebacks.
"""

from __future__ import annotations

import logging

import httpx

#: Prefect loggers that report an unreachable API (runner, flow-run processes and threads)
API_LOGGERS = (
    "prefect.FlowRunCancellingObserver",
    "prefect.FlowRunSuspendingObserver",
    "prefect.engine",
    "prefect.events.clients",
    "prefect._internal.concurrency",
    "prefect.runner",
)
MESSAGE_LIMIT = 240
UNREACHABLE = httpx.TransportError | ConnectionError | TimeoutError


def is_unreachable_api(exc: BaseException | None) -> bool:
    """Whether `exc`, or what caused it, is a failure to reach an HTTP or websocket peer."""
    from websockets.exceptions import ConnectionClosed, InvalidHandshake

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, UNREACHABLE | ConnectionClosed | InvalidHandshake):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class OneLineWhenUnreachable(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not is_unreachable_api(exc):
            return True
        message = record.getMessage()
        if len(message) > MESSAGE_LIMIT:
            message = message[:MESSAGE_LIMIT] + "…"
        reason = str(exc).splitlines()[0] if str(exc) else ""
        record.msg = f"{message} ({type(exc).__name__}{': ' + reason if reason else ''})"
        record.args, record.exc_info, record.exc_text = (), None, None
        return True


def quiet_unreachable_api_logs() -> None:
    """Install the filter once on each of Prefect's loggers that report an unreachable API."""
    for name in API_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, OneLineWhenUnreachable) for f in logger.filters):
            logger.addFilter(OneLineWhenUnreachable())
