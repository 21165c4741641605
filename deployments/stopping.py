"""Run an async main off the main thread, so that SIGTERM and Ctrl-C stop it gracefully.

Why: while a flow runs in this process (fleet mode polls inside a `fleet-worker` flow run),
Prefect's engine swaps SIGTERM for a handler that raises `TerminationSignal` wherever the
main thread happens to be, which crashes the flow run mid-poll and the process with a
traceback. The engine installs that handler only on the main thread; on another thread it
leaves signals alone, and the main thread turns them into one `stop` event.
"""

from __future__ import annotations

import asyncio
import signal
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
Main = Callable[[asyncio.Event], Coroutine[Any, Any, T]]


def run_until_signalled(main: Main[T]) -> T:
    """`main(stop)` on a thread's event loop; SIGTERM or SIGINT sets `stop`."""
    ready = threading.Event()
    handles: dict[str, Any] = {}
    outcome: dict[str, Any] = {}

    async def wrapper() -> T:
        handles["loop"], handles["stop"] = asyncio.get_running_loop(), asyncio.Event()
        ready.set()
        return await main(handles["stop"])

    def target() -> None:
        try:
            outcome["result"] = asyncio.run(wrapper())
        except BaseException as exc:  # handed to the main thread, which raises it
            outcome["error"] = exc
        finally:
            ready.set()

    def request_stop(_signum: int, _frame: object) -> None:
        if "loop" in handles:
            handles["loop"].call_soon_threadsafe(handles["stop"].set)

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    thread = threading.Thread(target=target, name="poller-main")
    try:
        thread.start()
        while thread.is_alive():
            thread.join(0.5)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if "error" in outcome:
        raise outcome["error"]
    result: T = outcome["result"]
    return result
