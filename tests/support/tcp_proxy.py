"""A TCP forwarder a test can cut, stall and restore, to make a database unreachable or unresponsive for one
process only."""
from __future__ import annotations

import socket
import threading


class TcpProxy:
    """Forwards 127.0.0.1:`port` to a target. `cut()` breaks every connection and refuses new ones until
    `restore()`; `stall()` keeps every connection open but holds what is sent either way until `restore()`,
    as a frozen (SIGSTOPped) server does."""

    def __init__(self, target_host: str, target_port: int):
        self._target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open = threading.Event()
        self._open.set()
        self._flowing = threading.Event()
        self._flowing.set()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        threading.Thread(target=self._accept_loop, daemon=True).start()

    def cut(self) -> None:
        self._open.clear()
        with self._lock:
            for sock in self._sockets:
                _close(sock)
            self._sockets.clear()

    def stall(self) -> None:
        self._flowing.clear()

    def restore(self) -> None:
        self._open.set()
        self._flowing.set()

    def close(self) -> None:
        _close(self._listener)
        self.cut()

    def _accept_loop(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # the listener was closed
            if not self._open.is_set():
                # Accept-then-close looks to the client like a server that died during the handshake.
                _close(client)
                continue
            try:
                upstream = socket.create_connection(self._target, timeout=5)
            except OSError:
                _close(client)
                continue
            upstream.settimeout(None)  # the timeout above is for connecting; idle connections are normal
            for sock in (client, upstream):
                # Without it, Nagle's algorithm and delayed ACKs add ~40 ms to every small query.
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self._sockets.update((client, upstream))
            threading.Thread(target=self._pump, args=(client, upstream, self.forward_request), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, self.forward_response), daemon=True).start()

    # What a subclass may change: how bytes are read and passed on in each direction (as they come, here).
    def forward_request(self, client: socket.socket, upstream: socket.socket) -> bool:
        """Pass on what the client sent next; False once it closed."""
        return self._forward_chunk(client, upstream)

    def forward_response(self, upstream: socket.socket, client: socket.socket) -> bool:
        return self._forward_chunk(upstream, client)

    def _forward_chunk(self, source: socket.socket, sink: socket.socket) -> bool:
        data = source.recv(65536)
        if data:
            self._flowing.wait()
            sink.sendall(data)
        return bool(data)

    def _pump(self, source: socket.socket, sink: socket.socket, forward) -> None:
        try:
            while forward(source, sink):
                pass
        except OSError:
            pass
        finally:
            with self._lock:
                self._sockets.discard(source)
                self._sockets.discard(sink)
            _close(source)
            _close(sink)


def _close(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    sock.close()
