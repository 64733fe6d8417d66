"""Reading a server-sent event stream (text/event-stream) the way a browser's EventSource does, with deadlines.

A reader thread parses the stream into items (the `retry` field, comments such as the heartbeat, and events)
and hands them over through a queue, so a case waits for what it expects with a deadline of its own and never
blocks on a quiet connection. An answer that is not an event stream (a 401/403/404 problem) is read whole and
left in `response` for assert_problem."""
from __future__ import annotations

import codecs
import contextlib
import json
import queue
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import requests

from tests.acceptance.uat.checks import WAIT_SECONDS, media_type
from tests.acceptance.uat.client import Api, Exchange

EVENT_STREAM = "text/event-stream"
CONNECT_TIMEOUT_SECONDS = 10
# Longer than two heartbeats (STREAM_HEARTBEAT_SECONDS, 15 by default): a quiet but healthy stream never times out.
READ_TIMEOUT_SECONDS = 45


@dataclass(frozen=True)
class Event:
    """One dispatched event: its `id` field (None when it had none), its name and its data."""

    id: str | None
    name: str
    data: str

    def json(self) -> dict:
        return json.loads(self.data)


@dataclass(frozen=True)
class Comment:
    """A comment line (":" and its text), such as the heartbeat."""

    text: str


@dataclass(frozen=True)
class Retry:
    """The `retry` field: how many milliseconds a client waits before reconnecting."""

    milliseconds: int


@dataclass(frozen=True)
class Closed:
    """The server ended the stream, or reading it failed."""

    reason: str


Item = Event | Comment | Retry | Closed


def parse_lines(lines, emit: Callable[[Item], None]) -> None:
    """The event stream interpretation of the HTML standard, for lines without their line ends."""
    name, data, event_id = "", [], None
    for line in lines:
        if line == "":
            if data:
                emit(Event(event_id, name or "message", "\n".join(data)))
            name, data = "", []
            continue
        if line.startswith(":"):
            emit(Comment(line[1:].strip()))
            continue
        field, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if field == "event":
            name = value
        elif field == "data":
            data.append(value)
        elif field == "id" and "\0" not in value:
            event_id = value
        elif field == "retry" and value.isdigit():
            emit(Retry(int(value)))


def _lines(chunks):
    """Splits decoded chunks at CRLF, LF or CR, as the stream format allows (a CR ends its line at once)."""
    buffer, after_cr = "", False
    for chunk in chunks:
        if after_cr and chunk.startswith("\n"):
            chunk = chunk[1:]  # the LF of a CRLF split across two chunks
        buffer += chunk
        after_cr = False
        while True:
            ends = [i for i in (buffer.find("\r"), buffer.find("\n")) if i >= 0]
            if not ends:
                break
            cut = min(ends)
            yield buffer[:cut]
            if buffer.startswith("\r\n", cut):
                buffer = buffer[cut + 2:]
            else:
                after_cr = buffer[cut] == "\r" and cut == len(buffer) - 1
                buffer = buffer[cut + 1:]


def _chunks(raw):
    """The stream's text as it arrives: read1 returns whatever the connection has, never waiting for more."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    while data := raw.read1(65536, decode_content=True):
        yield decoder.decode(data)


def _socket_of(response: requests.Response) -> socket.socket | None:
    """The connection's socket: urllib3 keeps it on the connection, or (a response that closes the connection at
    its end) only in http.client's reader."""
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    if sock is None:
        reader = getattr(getattr(response.raw, "_fp", None), "fp", None)
        sock = getattr(getattr(reader, "raw", None), "_sock", None)
    return sock if isinstance(sock, socket.socket) else None


class EventStream:
    """One open stream (or the refusal that came instead); `items` keeps everything read so far, in order."""

    def __init__(self, base_url: str, path: str, *, token: str | None = None, last_event_id: str | None = None,
                 params: dict | None = None, api: Api | None = None):
        headers = {"Accept": EVENT_STREAM}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if last_event_id is not None:
            headers["Last-Event-ID"] = last_event_id
        self.session = requests.Session()
        self.url = base_url.rstrip("/") + path
        self.response = self.session.get(self.url, headers=headers, params=params, stream=True,
                                         timeout=(CONNECT_TIMEOUT_SECONDS, READ_TIMEOUT_SECONDS))
        self.items: list[Item] = []
        self._arrived: queue.Queue[Item] = queue.Queue()
        self.is_stream = self.response.status_code == 200 and media_type(self.response) == EVENT_STREAM
        self._socket = _socket_of(self.response)
        if self.is_stream:
            self._reader = threading.Thread(target=self._read, name=f"sse {path}", daemon=True)
            self._reader.start()
            body = "(event stream)"
        else:
            self.response.content  # noqa: B018 - a refusal is short: read it whole, as for any other request
            body = self.response.text[:600]
        if api is not None:
            api.last = Exchange("GET", self.response.url, self.response.status_code,
                                self.response.headers.get("Content-Type", ""), body)

    def _read(self) -> None:
        try:
            parse_lines(_lines(_chunks(self.response.raw)), self._arrived.put)
            self._arrived.put(Closed("the server ended the stream"))
        except Exception as exc:  # noqa: BLE001 - any end of reading is reported as a Closed item
            self._arrived.put(Closed(f"reading stopped: {exc!r}"))

    def next_item(self, deadline: float) -> Item | None:
        """The next item read, or None once the deadline (time.monotonic()) has passed."""
        try:
            item = self._arrived.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return None
        self.items.append(item)
        return item

    def wait_for(self, wanted: Callable[[Item], bool], what: str, timeout: float = WAIT_SECONDS) -> Item:
        """Reads until an item is `wanted`; fails on the deadline or when the stream ends first."""
        assert self.is_stream, f"{self.url} answered {self.response.status_code} {self.response.text[:300]}"
        deadline = time.monotonic() + timeout
        while True:
            item = self.next_item(deadline)
            if item is None:
                raise AssertionError(f"{what} did not arrive on {self.url} within {timeout:g} s; read {self.items}")
            if isinstance(item, Closed):
                raise AssertionError(f"{what} did not arrive on {self.url}: {item.reason}; read {self.items}")
            if wanted(item):
                return item

    def started(self) -> Retry:
        """Waits for the `retry` field every stream of this product sends first: from then on it is subscribed."""
        return self.wait_for(lambda item: isinstance(item, Retry), "the retry field")

    def events(self, name: str | None = None, where: Callable[[dict], bool] = lambda data: True) -> list[Event]:
        """The events read so far (named `name`, if given) whose data satisfies `where`."""
        return [item for item in self.items if isinstance(item, Event) and (name is None or item.name == name)
                and where(item.json())]

    def collect(self, name: str, where: Callable[[dict], bool], until: Callable[[dict], bool], what: str,
                timeout: float = WAIT_SECONDS) -> list[Event]:
        """Reads until an event named `name` satisfies `where` and `until` (or one read before did); returns every
        `where` event read so far."""
        if any(until(event.json()) for event in self.events(name, where)):
            return self.events(name, where)
        self.wait_for(lambda item: isinstance(item, Event) and item.name == name and where(item.json())
                      and until(item.json()), what, timeout)
        return self.events(name, where)

    def close(self) -> None:
        # Shutting the socket down first wakes the reader thread: closing the response alone would wait for its
        # read, that is for the next heartbeat.
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.shutdown(socket.SHUT_RDWR)
        self.response.close()
        self.session.close()

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *_exc) -> None:
        self.close()
