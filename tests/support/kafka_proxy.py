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
import threading


class CorruptingKafkaProxy:
    def __init__(self, broker: str, marker: bytes):
        host, _, port = broker.rpartition(":")
        self._target = (host, int(port))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self._replacements = [(marker, bytes(b ^ 0x20 for b in marker))]
        for name in {host, "127.0.0.1", "localhost"}:
            self._replacements.append((name.encode() + struct.pack(">i", int(port)),
                                       name.encode() + struct.pack(">i", self.port)))
        self.corrupted = 0  # frames in which the marker was replaced
        self.requests: collections.Counter[int] = collections.Counter()  # requests sent, by API key (Fetch: 1)
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def close(self) -> None:
        _close(self._listener)
        with self._lock:
            for sock in self._sockets:
                _close(sock)
            self._sockets.clear()

    def _accept_loop(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._sockets.update((client, upstream))
            threading.Thread(target=self._requests, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._responses, args=(upstream, client), daemon=True).start()

    def _requests(self, client: socket.socket, upstream: socket.socket) -> None:
        try:
            while True:
                size = _read_exactly(client, 4)
                frame = size and _read_exactly(client, struct.unpack(">i", size)[0])
                if not frame:
                    return
                with self._lock:
                    self.requests[struct.unpack_from(">h", frame)[0]] += 1
                upstream.sendall(size + frame)
        except OSError:
            pass
        finally:
            self._forget(client, upstream)

    def _responses(self, upstream: socket.socket, client: socket.socket) -> None:
        try:
            while True:
                size = _read_exactly(upstream, 4)
                frame = size and _read_exactly(upstream, struct.unpack(">i", size)[0])
                if not frame:
                    return
                client.sendall(size + self._rewrite(frame))
        except OSError:
            pass
        finally:
            self._forget(client, upstream)

    def _rewrite(self, frame: bytes) -> bytes:
        marker, spoiled = self._replacements[0]
        if marker in frame:
            with self._lock:
                self.corrupted += 1
            frame = frame.replace(marker, spoiled)
        for original, replacement in self._replacements[1:]:
            frame = frame.replace(original, replacement)
        return frame

    def _forget(self, *sockets: socket.socket) -> None:
        with self._lock:
            for sock in sockets:
                self._sockets.discard(sock)
                _close(sock)


def _read_exactly(sock: socket.socket, size: int) -> bytes | None:
    chunks, missing = [], size
    while missing:
        chunk = sock.recv(min(missing, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        missing -= len(chunk)
    return b"".join(chunks)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
