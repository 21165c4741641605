"""The logging of the flow-run processes `poller run` starts: Prefect's own configuration,
plus `flows.quiet_logs.OneLineWhenUnreachable` on its console handlers.

Why a file: a run that starts just as the Prefect API goes away fails inside Prefect's engine
(`python -m prefect.engine`), before any poller code is imported, and logs a two-page
traceback of a refused connection. Only the logging configuration Prefect loads at start
reaches it; `PREFECT_LOGGING_SETTINGS_PATH` names it, and the processes inherit it. No Prefect
import here: the CLI calls this before Prefect reads its settings. An operator's own
`PREFECT_LOGGING_SETTINGS_PATH` wins.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

import yaml

SETTING = "PREFECT_LOGGING_SETTINGS_PATH"
FILTER_NAME = "one_line_when_unreachable"
FILTER_FACTORY = "flows.quiet_logs.OneLineWhenUnreachable"
#: Prefect's handlers that write to the terminal (its `api` handlers send logs to the server)
CONSOLE_HANDLERS = ("console", "debug")


def quiet_logging_config(prefect_default: dict[str, Any]) -> dict[str, Any]:
    """Pure: Prefect's default logging configuration with the filter on its console handlers."""
    config = {**prefect_default, "filters": {**prefect_default.get("filters", {})}}
    config["filters"][FILTER_NAME] = {"()": FILTER_FACTORY}
    config["handlers"] = {
        name: (
            {**handler, "filters": [*handler.get("filters", []), FILTER_NAME]}
            if name in CONSOLE_HANDLERS
            else handler
        )
        for name, handler in prefect_default["handlers"].items()
    }
    return config


def use_quiet_logging(folder: Path) -> Path | None:
    """Write the configuration into `folder` and name it in the environment, unless the
    operator named one; the file written, if any."""
    if os.environ.get(SETTING):
        return None
    default = yaml.safe_load(_prefect_default_path().read_text())
    folder.mkdir(parents=True, exist_ok=True)
    path = (folder / "prefect-logging.yml").resolve()
    path.write_text(yaml.safe_dump(quiet_logging_config(default), sort_keys=False))
    os.environ[SETTING] = str(path)
    return path


def _prefect_default_path() -> Path:
    spec = importlib.util.find_spec("prefect")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("Prefect is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "logging" / "logging.yml"
