"""Prefect's log lines about an API it cannot reach lose their tracebacks; others keep them."""

from __future__ import annotations

import io
import logging

import httpx
import pytest
from websockets.exceptions import ConnectionClosedError
from websockets.frames import Close

from flows.quiet_logs import (
    MESSAGE_LIMIT,
    OneLineWhenUnreachable,
    is_unreachable_api,
    quiet_unreachable_api_logs,
)


def caught(exc: BaseException) -> BaseException:
    try:
        raise exc
    except BaseException as error:
        return error


def chained(outer: Exception, cause: BaseException) -> BaseException:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise outer from inner
    except Exception as error:
        return error


@pytest.mark.parametrize(
    ("exc", "unreachable"),
    [
        (httpx.ConnectError("All connection attempts failed"), True),
        (httpx.ReadTimeout("timed out"), True),
        (ConnectionResetError(104, "Connection reset by peer"), True),
        (ConnectionClosedError(Close(1012, "service restart"), None), True),
        (chained(RuntimeError("Service failed"), httpx.ConnectError("refused")), True),
        (ValueError("a bug"), False),
        (chained(RuntimeError("wrapped"), KeyError("x")), False),
        (None, False),
    ],
)
def test_what_counts_as_an_unreachable_api(exc: BaseException | None, unreachable: bool) -> None:
    assert is_unreachable_api(exc) is unreachable


def logged(exc: BaseException, message: str = "Execution of flow run %s failed") -> str:
    stream = io.StringIO()
    logger = logging.getLogger(f"test.quiet.{id(stream)}")
    logger.propagate = False
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    logger.addFilter(OneLineWhenUnreachable())
    error = caught(exc)
    logger.error(message, "abc", exc_info=error)
    return stream.getvalue()


def test_an_unreachable_api_is_one_line_with_the_reason() -> None:
    said = logged(httpx.ConnectError("All connection attempts failed"))
    assert said == (
        "Execution of flow run abc failed (ConnectError: All connection attempts failed)\n"
    )


def test_a_long_message_is_cut() -> None:
    said = logged(httpx.ConnectError("refused"), "Service failed to process item %s" + "x" * 900)
    assert "Traceback" not in said and len(said.splitlines()[0]) < MESSAGE_LIMIT + 40


def test_other_failures_keep_their_traceback() -> None:
    said = logged(ValueError("a bug in a flow"))
    assert "Traceback (most recent call last)" in said and "ValueError: a bug in a flow" in said


def test_the_filter_is_installed_once_on_prefects_loggers() -> None:
    quiet_unreachable_api_logs()
    quiet_unreachable_api_logs()
    filters = logging.getLogger("prefect.engine").filters
    assert sum(isinstance(f, OneLineWhenUnreachable) for f in filters) == 1
