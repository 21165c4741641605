"""Secrets for `poller add`/`edit`: from a file, stdin, the environment or a prompt, never
from argv (argv shows in `ps` and lands in shell history)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import typer

from poller.cli.app import usage_error
from poller.errors import UsageError

API_KEY_ENV = "POLLER_ODOO_API_KEY"
WEBHOOK_SECRET_ENV = "POLLER_WEBHOOK_SECRET"
_STDIN = "poller.secret_stdin"  # ctx.meta: what `--...-file -` read from stdin


def refuse_api_key_value(value: str | None) -> None:
    if value is not None:  # never echo it
        usage_error(
            "secrets are not taken as arguments (they show in `ps` and in shell history): "
            "leave out --api-key to be prompted without echo, pipe the key in with "
            f"--api-key-file -, read it from a file with --api-key-file PATH, or set {API_KEY_ENV}"
        )


def refuse_webhook_secret_value(value: str | None) -> None:
    if value is not None:  # never echo it
        usage_error(
            "secrets are not taken as arguments (they show in `ps` and in shell history): "
            "leave out --webhook-secret to have one generated, pipe it in with "
            "--webhook-secret-file -, read it from a file with --webhook-secret-file PATH, "
            f"or set {WEBHOOK_SECRET_ENV}"
        )


def secret_file_option(flag: str, help_text: str) -> Any:
    """`--api-key-file` / `--webhook-secret-file`: a path, or '-' for stdin, read once."""
    return typer.Option(
        flag, metavar="PATH", is_eager=True, callback=read_stdin_once, help=help_text
    )


def read_stdin_once(ctx: typer.Context, value: str | None) -> str | None:
    """`-` reads stdin here, before any prompt of the command can read it (a prompted Odoo
    URL must never swallow a piped key); only one secret can come from stdin."""
    if value != "-":
        return value
    if _STDIN in ctx.meta:
        usage_error(
            "only one secret can come from stdin: give the other one as a file or "
            "an environment variable"
        )
    stdin = sys.stdin
    if stdin.isatty():
        usage_error(
            "'-' reads a secret from stdin, which is a terminal: pipe the secret in, "
            "or have it prompted for without echo instead (see --help)"
        )
    ctx.meta[_STDIN] = stdin.read()
    return value


def secret_from_file(ctx: typer.Context, path: str, what: str) -> str:
    """The secret in `path` (`-`: what stdin held), without surrounding whitespace. Errors
    name the file, never what it holds; they are usage errors (exit code 2), as when click
    cannot read a file it was given."""
    if not path:
        raise UsageError(f"no file named for the {what}", hint="Give a path, or '-' for stdin")
    where = "stdin" if path == "-" else f"file {path}"
    if path == "-":
        text = str(ctx.meta.get(_STDIN, ""))
    else:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise UsageError(f"the {what} {where} is not UTF-8 text") from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise UsageError(f"cannot read the {what} {where}: {reason}") from None
    secret = text.strip()
    if not secret:
        raise UsageError(f"the {what} {where} is empty", hint="Nothing was saved")
    if "\n" in secret or "\r" in secret:
        raise UsageError(
            f"the {what} {where} holds more than one line", hint="Give it the secret alone"
        )
    return secret


def secret_from_env(name: str) -> str | None:
    return os.environ.get(name, "").strip() or None
