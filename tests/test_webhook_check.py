"""`poller add`/`test` judge the webhook URL by what a real receiver on loopback answers to
HEAD (then OPTIONS when it does not do HEAD), never by POSTing."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from poller.webhook_check import check_webhook


def _handler(answers: dict[str, int]) -> type[BaseHTTPRequestHandler]:
    """A receiver that answers each method of `answers` with its status; the methods it
    lacks get http.server's own 501, as a receiver written with only `do_POST` does."""

    def answer(self: BaseHTTPRequestHandler) -> None:
        status = answers[self.command]
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", "https://elsewhere.example/hooks")
        self.send_header("Content-Length", "0")
        self.end_headers()

    methods = {f"do_{method}": answer for method in answers}
    return type("Receiver", (BaseHTTPRequestHandler,), {**methods, "log_message": print})


@contextmanager
def receiver(answers: dict[str, int]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(answers))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hooks"
    finally:
        server.shutdown()
        server.server_close()


async def _check(url: str):
    async with httpx.AsyncClient(timeout=5) as http:
        return await check_webhook(url, http)


@pytest.mark.parametrize(
    ("answers", "ok", "says", "warns"),
    [
        ({"HEAD": 200}, True, "answers HTTP 200 to HEAD", False),
        ({"HEAD": 401}, True, "answers HTTP 401 to HEAD", True),
        ({"HEAD": 403}, True, "answers HTTP 403 to HEAD", True),
        ({"HEAD": 404}, False, "answers HTTP 404 to HEAD: no receiver at this URL", False),
        ({"HEAD": 405, "OPTIONS": 204}, True, "HTTP 204 to HEAD (405) and OPTIONS", False),
        ({"HEAD": 410}, False, "answers HTTP 410 to HEAD: no receiver at this URL", False),
        ({"OPTIONS": 200}, True, "HTTP 200 to HEAD (501) and OPTIONS", False),
        ({"POST": 200}, True, "HTTP 501 to HEAD (501) and OPTIONS", True),
        ({"HEAD": 503}, False, "answers HTTP 503 to HEAD: the receiver is failing", False),
        ({"HEAD": 308}, False, "it redirects to https://elsewhere.example/hooks", False),
    ],
    ids=["200", "401", "403", "404", "405", "410", "501", "501-both", "503", "308"],
)
async def test_a_receiver_s_answer_gets_its_verdict(answers, ok, says, warns) -> None:
    with receiver(answers) as url:
        check = await _check(url)
    assert (check.ok, bool(check.warning)) == (ok, warns), check
    assert says in check.detail and check.detail.startswith(url)


async def test_a_refused_connection_is_unreachable() -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    check = await _check(f"http://127.0.0.1:{port}/hooks")
    assert not check.ok and "is unreachable: ConnectError" in check.detail
