"""A Kafka-protocol proxy in front of one broker that corrupts chosen bytes of what the broker sends, for a test
that needs a record batch the client cannot decode: Apache Kafka checks every batch's CRC (and decompresses
compressed ones) when it is produced, so such a batch can only come from a fault between broker and client.

Responses are forwarded frame by frame (a 4-byte size, then the frame), each with every `marker` replaced by
bytes of the same length: the frame sizes stay right and the batch holding the marker fails its CRC check. The
broker's own address in metadata and coordinator answers (its host followed by its port, in every version of
those responses) is rewritten to the proxy's, so every connection the client opens comes through here."""
from __future__ import annotations

import collections
import socket
import struct

from tests.support.tcp_proxy import TcpProxy


class CorruptingKafkaProxy(TcpProxy):
    def __init__(self, broker: str, marker: bytes):
        host, _, port = broker.rpartition(":")
        self.corrupted = 0  # responses in which the marker was spoiled
        self.requests: collections.Counter[int] = collections.Counter()  # requests sent, by API key (Fetch: 1)
        self._marker, self._spoiled = marker, bytes(b ^ 0x20 for b in marker)
        super().__init__(host, int(port))
        self.address = f"127.0.0.1:{self.port}"
        self._addresses = [(name.encode() + struct.pack(">i", int(port)), name.encode() + struct.pack(">i", self.port))
                           for name in {host, "127.0.0.1", "localhost"}]

    def forward_request(self, client: socket.socket, upstream: socket.socket) -> bool:
        frame = _read_frame(client)
        if frame is None:
            return False
        with self._lock:
            self.requests[struct.unpack_from(">h", frame, 4)[0]] += 1
        upstream.sendall(frame)
        return True

    def forward_response(self, upstream: socket.socket, client: socket.socket) -> bool:
        frame = _read_frame(upstream)
        if frame is None:
            return False
        if self._marker in frame:
            with self._lock:
                self.corrupted += 1
            frame = frame.replace(self._marker, self._spoiled)
        for original, replacement in self._addresses:
            frame = frame.replace(original, replacement)
        client.sendall(frame)
        return True


def _read_frame(sock: socket.socket) -> bytes | None:
    """One size-prefixed frame, its size included; None once the connection closed."""
    size = _read_exactly(sock, 4)
    body = size and _read_exactly(sock, struct.unpack(">i", size)[0])
    return size + body if body else None


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    chunks, missing = [], size
    while missing:
        chunk = sock.recv(min(missing, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)
