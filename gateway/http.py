"""HTTP to the proxy's own endpoints (discovery, token counting, health probes): one pooled client, bounded answers.

`shared_client()` returns one long-lived `httpx.Client` per (base URL, key, timeouts, size limit) for the whole
process, so every rerun of every session reuses its connections instead of opening new ones; all are closed at exit.
Every answer it reads is bounded: a body larger than the limit (MAX_RESPONSE_MB) is refused as soon as its
`Content-Length` says so, or else as soon as that much has arrived, so memory stays bounded whatever the server
sends. Compressed bodies are not asked for; one sent anyway is decompressed here, under the same limit.
`read_json()` turns a body into JSON or a `BadResponse` that says what came instead.
"""

from __future__ import annotations

import atexit
import zlib
from collections.abc import Iterator

import httpx

from gateway.cache import Cache
from gateway.errors import BadResponse

DECODE_STEP = 1024 * 1024  # bytes decompressed at a time
MAX_CLIENTS = 32  # distinct (URL, key, timeouts, limit) kept; the least recently used one is closed past that
_IDENTITY = ("", "identity")
_ZLIB = ("gzip", "x-gzip", "deflate")

_clients: Cache[tuple, httpx.Client] = Cache(MAX_CLIENTS, on_evict=httpx.Client.close)  # not named: kept by tests


def shared_client(base_url: str, api_key: str | None, *, connect: float, read: float,
                  max_bytes: int) -> httpx.Client:
    """The process-wide pooled client for these settings. Never close it: it is shared (closed at exit)."""
    slot = (base_url, api_key, connect, read, max_bytes)

    def open_client() -> httpx.Client:
        headers = {"Accept-Encoding": "identity"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        return httpx.Client(base_url=base_url, headers=headers, timeout=httpx.Timeout(read, connect=connect),
                            event_hooks={"response": [bounded(max_bytes)]})

    client = _clients.get_or_compute(slot, open_client)
    if client.is_closed:  # closed by a caller after all: replace it
        _clients.pop(slot)
        client = _clients.get_or_compute(slot, open_client)
    return client


@atexit.register
def close_all() -> None:
    """Close every shared client (at exit; tests may call it too)."""
    _clients.clear()  # each is closed on its way out


def bounded(max_bytes: int):
    """An httpx response hook that makes the body readable only up to `max_bytes` (decompressed)."""
    def hook(response: httpx.Response) -> None:
        path = response.request.url.path
        length = response.headers.get("content-length", "")
        encoding = response.headers.get("content-encoding", "").strip().lower()
        if length.isdigit() and int(length) > max_bytes and encoding in _IDENTITY:
            raise too_large(path, max_bytes, int(length))
        if encoding not in _IDENTITY + _ZLIB:
            raise BadResponse(f"{path} answered in an encoding that was not asked for ({encoding[:40]}): "
                              "this does not look like a LiteLLM proxy.")
        assert isinstance(response.stream, httpx.SyncByteStream)  # a sync client's response
        response.stream = _Bounded(response.stream, max_bytes, path, encoding in _ZLIB)
        if encoding in _ZLIB:
            del response.headers["content-encoding"]  # decompressed here, under the limit
    return hook


def too_large(path: str, max_bytes: int, length: int | None = None) -> BadResponse:
    size = f" ({length / 1024 / 1024:,.0f} MB)" if length else ""
    return BadResponse(f"{path} answered more than {max_bytes / 1024 / 1024:g} MB{size}: stopped reading there.",
                       hint="A LiteLLM proxy's answers are far smaller: is LITELLM_BASE_URL pointing at one? "
                            "If it is, and it serves that many models, raise MAX_RESPONSE_MB.")


class _Bounded(httpx.SyncByteStream):
    """A response body that stops with `too_large` past `max_bytes`."""

    def __init__(self, stream: httpx.SyncByteStream, max_bytes: int, path: str, compressed: bool) -> None:
        self._stream, self._max, self._path = stream, max_bytes, path
        self._decoder = zlib.decompressobj(wbits=zlib.MAX_WBITS | 32) if compressed else None

    def __iter__(self) -> Iterator[bytes]:
        total = 0
        for chunk in self._stream:
            # the lambda reads `total` as it grows, on purpose: each step asks for no more than is left
            for data in self._decode(chunk, lambda: min(DECODE_STEP, self._max - total + 1)):  # noqa: B023
                total += len(data)
                if total > self._max:
                    raise too_large(self._path, self._max)
                yield data

    def _decode(self, chunk: bytes, room) -> Iterator[bytes]:
        if self._decoder is None:
            yield chunk
            return
        try:
            data = self._decoder.decompress(chunk, room())
            yield data
            while self._decoder.unconsumed_tail:
                data = self._decoder.decompress(self._decoder.unconsumed_tail, room())
                yield data
        except zlib.error as exc:
            raise BadResponse(f"{self._path} sent a compressed answer that could not be read ({exc}).") from None

    def close(self) -> None:
        self._stream.close()


def read_json(response: httpx.Response) -> object:
    """The JSON body, or BadResponse saying what came instead (an HTML page, something else, a nesting too deep)."""
    path = response.request.url.path
    try:
        return response.json()
    except RecursionError:
        raise BadResponse(f"{path} answered JSON nested too deeply to read: this does not look like a LiteLLM "
                          "proxy.") from None
    except ValueError:
        start = response.content[:500].decode("utf-8", "replace").lower()
        kind = "an HTML page" if "<html" in start else "something that is not JSON"
        raise BadResponse(f"{path} answered {kind}: this does not look like a LiteLLM proxy.") from None
