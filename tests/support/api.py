"""Helpers for the HTTP API tests: a relay that takes a real proxy away and back, the pieces of a key no answer may
carry, Server-Sent Events read from an answer, and answers checked against the API's own OpenAPI schemas. (The
key-echoing gateway is tests/support/hostile.py's, mode `echo-calls`.)"""

from __future__ import annotations

import json
import socket
import threading
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from api.openapi import document
from tests.support.proxy import free_port

# --- A proxy that can go away --------------------------------------------------------------------------------------


class Relay:
    """A TCP relay on a fixed loopback port in front of a real server. `stop()` closes it and every connection
    through it (the app then gets "connection refused", as when the proxy is down); `start()` opens it again."""

    def __init__(self, target_port: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._target = target_port
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> Relay:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True, name="relay").start()
        return self

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)  # wakes accept() on Linux
            except OSError:
                pass
            listener.close()
        with self._lock:
            for sock in self._open:
                _close(sock)
            self._open.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self._target))
            except OSError:
                _close(client)
                continue
            with self._lock:
                self._open |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True, name="relay-pump").start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                _close(sock)
                with self._lock:
                    self._open.discard(sock)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()


# --- Keys in answers ------------------------------------------------------------------------------------------------


def key_pieces(key: str, size: int = 8) -> set[str]:
    """Every `size`-character piece of a key: none may appear anywhere in an answer."""
    return {key[i:i + size] for i in range(len(key) - size + 1)}


# --- Reading answers -----------------------------------------------------------------------------------------------


def server_sent_events(text: str) -> list[tuple[str, Any]]:
    """(event name, decoded data) of every event in a text/event-stream body; comments are skipped."""
    events = []
    for block in text.split("\n\n"):
        name, data = "message", []
        for line in block.splitlines():
            if line.startswith(":"):
                continue
            field_name, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field_name == "event":
                name = value
            elif field_name == "data":
                data.append(value)
        if data:
            events.append((name, json.loads("\n".join(data))))
    return events


_REGISTRY = Registry().with_resource("urn:api", Resource(contents=document(), specification=DRAFT202012))


def conforms(answer: Any, schema: str) -> Any:
    """Check an answer against a schema of /api/openapi.json (raises ValidationError); return it."""
    Draft202012Validator({"$ref": f"urn:api#/components/schemas/{schema}"}, registry=_REGISTRY).validate(answer)
    return answer
