"""Deadlines for clients that send slowly (issue 12, item 8): uvicorn 0.55 has no read timeout, so a
connection trickling its headers or body one byte a second was held as long as it liked.

- header_deadline_protocol(seconds): uvicorn's h11 protocol, plus a timer armed whenever the
  connection waits for a request's headers (at connect, and after each answer on a kept-alive
  connection). If the headers are not complete in time the client gets 408 and the connection is closed.
- BodyDeadline: ASGI middleware bounding the time the app waits for a request's body; past it the
  route answers 408 in the error shape and the connection is closed."""
from __future__ import annotations

import asyncio
import json

import h11
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from servicekpi.server.errors import body

LINGER_S = 1.0


def _timeout_answer(text: str) -> bytes:
    payload = json.dumps(body(408, text)).encode()
    return (b"HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
            b"content-length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload)


class HeaderDeadlineProtocol(H11Protocol):
    """H11Protocol with a deadline on each request's headers (`header_timeout` seconds)."""

    header_timeout: float = 10.0
    _header_timer: asyncio.TimerHandle | None = None
    _lingering = False

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch_headers()

    def handle_events(self) -> None:
        super().handle_events()
        self._watch_headers()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch_headers()

    def connection_lost(self, exc) -> None:
        self._stop_header_timer()
        super().connection_lost(exc)

    def _watch_headers(self) -> None:
        """Armed while the client owes us a request head (h11: their state IDLE), stopped otherwise."""
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            if self._header_timer is None:
                self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)
        else:
            self._stop_header_timer()

    def _stop_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def data_received(self, data: bytes) -> None:
        if not self._lingering:
            super().data_received(data)

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.conn.their_state is not h11.IDLE or self.transport.is_closing():
            return
        self.transport.write(_timeout_answer(
            f"the request headers did not arrive within {self.header_timeout:g} s ([server] header_timeout_s)"))
        # a lingering close (as nginx does): closing with the client's bytes unread makes the kernel
        # send a reset, which can discard the 408 before the client reads it. So: end our side,
        # drop what still arrives, and close a second later.
        if self.transport.can_write_eof():
            self._lingering = True
            self.transport.write_eof()
            self.loop.call_later(LINGER_S, self.transport.close)
        else:
            self.transport.close()


def header_deadline_protocol(seconds: float) -> type[HeaderDeadlineProtocol]:
    """The protocol class to give uvicorn (Config(http=...)), with this header deadline."""
    return type("HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), {"header_timeout": float(seconds)})


class BodyDeadline:
    """A request may keep the app waiting for its body at most `seconds` in all, else 408.

    Only the time spent waiting in receive() counts: a route that reads the body late (after a busy
    writer) does not blame the client for it; uvicorn stops reading a socket whose unread body passes
    64 KiB, so the client cannot get ahead either. The deadline ends with the body's last chunk:
    after that receive() waits as long as the app likes (a streaming answer listens on it for the
    client's disconnect)."""

    def __init__(self, app: ASGIApp, seconds: float):
        self.app, self.seconds = app, seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        loop = asyncio.get_running_loop()
        left, body_done = self.seconds, False

        async def receive_in_time() -> Message:
            nonlocal left, body_done
            if body_done:
                return await receive()
            started = loop.time()
            try:
                if left <= 0:
                    raise asyncio.TimeoutError
                message = await asyncio.wait_for(receive(), left)
            except asyncio.TimeoutError:
                raise HTTPException(408, f"the request body did not arrive within {self.seconds:g} s "
                                         f"([server] body_timeout_s); send it faster or in smaller batches",
                                    headers={"Connection": "close"}) from None
            left -= loop.time() - started
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        await self.app(scope, receive_in_time, send)
