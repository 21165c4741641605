"""The poller's named errors: one class per thing an operator does differently.

Messages name the connection and what to do; they never carry a secret.
"""

from __future__ import annotations

import traceback


class PollerError(Exception):
    """Base of every error the poller raises on purpose."""

    #: Whether retrying the same call later can succeed without anyone changing anything.
    transient: bool = False

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        self.hint = hint
        super().__init__(f"{message}. {hint}" if hint else message)


class ConfigError(PollerError):
    """Settings, keys or connection definitions are missing or wrong."""


class UsageError(ConfigError):
    """The command line asks for what cannot be: a value outside what is allowed, a name that
    is taken, a delivery that does not exist. The CLI exits with code 2 for it, as for click's
    own usage errors, before anything is saved."""


class SettingsError(ConfigError):
    """A POLLER_* environment variable holds what is not allowed."""


class EncryptionKeyError(ConfigError):
    """POLLER_ENCRYPTION_KEY is missing, malformed, or cannot decrypt a stored secret."""


class ConnectionNotFound(ConfigError):
    """No connection with that name or id."""


class InvalidConnection(ConfigError):
    """A connection's block exists but holds no valid definition (edited by hand in the
    Prefect UI, or saved by another version of the poller)."""


class StateError(PollerError):
    """The poller database failed (locked, unreachable, not migrated)."""

    transient = True


class SchemaError(StateError):
    """The poller database's schema is not the one this version expects (not migrated, or
    migrated by another version): trying again cannot help."""

    transient = False


class InternalError(PollerError):
    """An exception the poller does not expect: a bug (or a library's). The poll fails and
    counts for the breaker; the traceback goes to the run's log for the bug report."""

    traceback: str = ""

    @classmethod
    def wrapping(cls, exc: BaseException) -> InternalError:
        error = cls(
            f"internal error: {one_line(exc)}",
            hint="This is a bug in the poller: report it with the traceback from the run's log",
        )
        error.traceback = "".join(traceback.format_exception(exc))
        return error


class LeaseLost(StateError):
    """Another run took over this connection's lease; this run stops where it is."""

    transient = False


def one_line(exc: BaseException, limit: int = 240) -> str:
    """An exception as one short line for an operator's console: its type, then the first
    line of its message (a Prefect API error's message carries a URL and a long tail)."""
    first = next((line for line in str(exc).splitlines() if line.strip()), "")
    text = f"{type(exc).__name__}: {first.strip()}" if first else type(exc).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"
