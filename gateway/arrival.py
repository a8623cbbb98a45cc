"""When a reply's bytes arrived, taken by a reader that nothing else in the process holds up.

A streamed reply used to be timed where its chunks were parsed: after the SDK's SSE decoding and pydantic models, in
a thread that competes for the GIL with every other stream's parsing and with the page drawing them. Beside a fast
neighbour (3,000 tokens at 2,000/s) a 0.6 s reply then measured 2.4 s: the app timed its own backlog.

`ArrivalStream` replaces an `httpx.Response`'s byte stream before the SDK reads it. Its own thread only reads the
socket, notes `time.perf_counter()` for each block and queues it; the SDK parses on the consumer's side as before.
`arrived` is the arrival time of the last block the consumer has taken, so the chunk being parsed right now is timed
by when its bytes came, however late it is parsed. The reader waits for the GIL at most one switch interval after
each read (a block that waited for it carries everything that arrived meanwhile: the lag does not add up).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable, Iterator
from functools import cache
from typing import Any

_END = object()


class ArrivalStream:
    """A response body read on its own thread, each block with the moment it arrived."""

    def __init__(self, stream: Iterable[bytes]) -> None:
        self._stream = stream
        self._blocks: queue.SimpleQueue[tuple[float, object]] = queue.SimpleQueue()
        self._closed = False
        self.arrived: float | None = None  # perf_counter() when the last block handed over arrived
        self._reader = threading.Thread(target=self._read, name="reply-arrival", daemon=True)
        self._reader.start()

    @classmethod
    def attach(cls, response: Any) -> ArrivalStream:
        """Time `response`'s body from now on (call before anything reads it). `response`: an `httpx.Response`, or
        the same class of the `httpx2` fork the openai SDK uses: the body is given the type that response expects
        (a subclass of its module's `SyncByteStream`)."""
        stream = response.stream
        base = next((k for k in type(stream).__mro__ if k.__name__ == "SyncByteStream"), None)
        if base is None:
            raise TypeError("only a synchronous response body can be timed")
        arrival = _shaped(base)(stream)
        response.stream = arrival
        return arrival

    def _read(self) -> None:
        put, clock = self._blocks.put, time.perf_counter  # the loop does nothing but read, stamp and queue
        try:
            for block in self._stream:
                put((clock(), block))
        except BaseException as exc:  # handed to the consumer, raised there as if read there
            put((clock(), exc))
        finally:
            put((clock(), _END))

    def __iter__(self) -> Iterator[bytes]:
        while True:
            arrived, item = self._blocks.get()
            if item is _END:
                return
            self.arrived = arrived
            if isinstance(item, BaseException):
                if self._closed:
                    return
                raise item
            yield item  # type: ignore[misc]

    def close(self) -> None:
        """Close the connection under the reader (which then ends) and release a consumer waiting for a block."""
        if self._closed:
            return
        self._closed = True
        try:
            close = getattr(self._stream, "close", None)
            if close is not None:
                close()
        finally:
            self._blocks.put((time.perf_counter(), _END))


@cache
def _shaped(base: type) -> type[ArrivalStream]:
    """ArrivalStream as a subclass of `base` too (the response checks its body's type)."""
    return type(f"ArrivalStream_{base.__module__.split('.')[0]}", (ArrivalStream, base), {})
