"""Shared fixtures: real objects over loopback, never mocks of our own code."""

from __future__ import annotations

import os

os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")
