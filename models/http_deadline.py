"""uvicorn's HTTP/1.1 connection with a deadline for each request's headers.

uvicorn times out an idle connection only after a response, and any byte that arrives resets that timer, so a
client that opens a connection and sends its headers slowly, or not at all, holds the connection for as long as
it likes. Here a connection that has not finished sending a request's headers within the deadline (counted from
the connection's start, or from the end of the previous response) is closed. The body has its own deadline in
the application (`models.backend.create_app`).
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


class HeaderDeadlineProtocol(H11Protocol):
    """An HTTP/1.1 connection that is closed when a request's headers take longer than `header_timeout` seconds."""

    header_timeout: float = 10.0
    headers_due: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_clock()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the headers are in: the request is being read or answered
            self._stop_clock()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._start_clock()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        super().connection_lost(exc)

    def _start_clock(self) -> None:
        self._stop_clock()
        self.headers_due = self.loop.call_later(self.header_timeout, self._too_slow)

    def _stop_clock(self) -> None:
        if self.headers_due is not None:
            self.headers_due.cancel()
            self.headers_due = None

    def _too_slow(self) -> None:
        self.headers_due = None
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self.transport.close()


def protocol_with_header_deadline(header_timeout: float) -> type[HeaderDeadlineProtocol]:
    """The protocol class to give uvicorn (`http=`), with its header deadline in seconds."""
    return type("HeaderDeadlineProtocol", (HeaderDeadlineProtocol,), {"header_timeout": header_timeout})
