"""A reply is timed where its bytes arrive (gateway/arrival.py), not where they are parsed: a consumer held up by
other work (another stream's parsing, the page drawing) does not lengthen the reply's own times."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from gateway.arrival import ArrivalStream
from gateway.chat import start_chat
from gateway.models import ModelRecord
from gateway.params import ChatParams
from gateway.reply import Outcome


class Blocks(httpx.SyncByteStream):
    """A response body of given blocks that says when the reader has asked for the block after the last."""

    def __init__(self, *blocks: bytes) -> None:
        self.blocks = blocks
        self.all_read = threading.Event()
        self.closed = False

    def __iter__(self):
        yield from self.blocks
        self.all_read.set()

    def close(self) -> None:
        self.closed = True


def test_each_block_is_timed_when_it_arrived_not_when_it_was_taken():
    body = Blocks(b"first", b"second")
    arrival = ArrivalStream(body)
    blocks = iter(arrival)
    assert next(blocks) == b"first"
    assert body.all_read.wait(5)  # the second block has arrived while the consumer was busy elsewhere
    taken = time.perf_counter()
    assert next(blocks) == b"second"
    assert arrival.arrived is not None and arrival.arrived < taken
    assert list(blocks) == []


def test_an_error_while_reading_is_raised_to_the_consumer():
    class Broken(httpx.SyncByteStream):
        def __iter__(self):
            yield b"part"
            raise httpx.ReadError("the connection broke")

    blocks = iter(ArrivalStream(Broken()))
    assert next(blocks) == b"part"
    with pytest.raises(httpx.ReadError, match="broke"):
        next(blocks)


def test_closing_ends_the_consumer_and_closes_the_body():
    body = Blocks(b"only")
    arrival = ArrivalStream(body)
    arrival.close()
    assert body.closed
    assert list(arrival) in ([], [b"only"])  # what arrived before the close may still be handed over, then the end


def test_a_reply_parsed_late_is_timed_when_its_bytes_arrived(settings):
    """The consumer reads the first piece, then is held up until the whole reply has arrived (as a page drawing a
    fast neighbour would hold it up): the reply's total is when its last bytes came, not when they were parsed."""
    model = ModelRecord(id="swift-alpha", route="litellm", providers=("openai",))
    stream = start_chat(model, [{"role": "user", "content": "Count."}], ChatParams(), settings)
    pieces = iter(stream)
    assert next(pieces)
    arrival = stream._arrival
    assert arrival is not None
    arrival._reader.join(30)  # every byte of the reply has arrived; none of it after the first piece is parsed
    held_until = time.perf_counter()
    rest = list(pieces)
    assert rest and stream.reply.outcome is Outcome.COMPLETE
    assert stream.metrics.total is not None and stream.metrics.ttft is not None
    assert stream._started + stream.metrics.total < held_until
    assert stream.metrics.ttft < stream.metrics.total
