"""The flow-run processes of `poller run` load Prefect's logging with the one-line filter:
a refused connection logged by Prefect's engine is one line, a bug keeps its traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deployments.run_logging import (
    FILTER_FACTORY,
    FILTER_NAME,
    SETTING,
    quiet_logging_config,
    use_quiet_logging,
)

ENGINE_LOGS = """
import httpx, logging
from prefect import flow  # Prefect sets its logging up as its engine does
logger = logging.getLogger("prefect.engine")
def fail(exc):
    try:
        raise exc
    except Exception as error:
        logger.error("Execution of flow run %s exited with an exception", "r1", exc_info=error)
fail(httpx.ConnectError("[Errno 111] Connection refused"))
fail(ValueError("a bug"))
"""


def test_the_filter_goes_on_the_console_handlers_only() -> None:
    default = {
        "version": 1,
        "handlers": {"console": {"class": "A"}, "api": {"class": "B"}, "debug": {"class": "C"}},
    }
    config = quiet_logging_config(default)
    assert config["filters"] == {FILTER_NAME: {"()": FILTER_FACTORY}}
    assert config["handlers"]["console"]["filters"] == [FILTER_NAME]
    assert config["handlers"]["debug"]["filters"] == [FILTER_NAME]
    assert "filters" not in config["handlers"]["api"]
    assert "filters" not in default["handlers"]["console"]  # the input is left as it was


def test_an_operators_own_logging_settings_win(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv(SETTING, "/etc/my-logging.yml")
    assert use_quiet_logging(tmp_path) is None
    assert os.environ[SETTING] == "/etc/my-logging.yml" and not list(tmp_path.iterdir())


@pytest.mark.slow
def test_a_process_that_inherits_it_logs_a_refused_connection_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SETTING, raising=False)
    written = use_quiet_logging(tmp_path)
    assert written is not None and written.exists()
    ran = subprocess.run(
        [sys.executable, "-c", ENGINE_LOGS],
        env={**os.environ, "COLUMNS": "300"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    said = ran.stdout + ran.stderr
    refused, bug = said.split("Execution of flow run r1")[1:]
    assert "(ConnectError: [Errno 111] Connection refused)" in refused
    assert "Traceback" not in refused
    assert "Traceback (most recent call last)" in bug and "ValueError: a bug" in bug
