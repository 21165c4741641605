"""The `poller` command. Every error is one line that says what to do, with a non-zero exit."""

from __future__ import annotations

import sys

from poller.cli import (  # noqa: F401  (registers the commands)
    connections,
    demo,
    logs,
    maintenance,
    queue,
    serve,
)
from poller.cli.app import app, err_console


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
