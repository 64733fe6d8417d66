"""A tiny HTTP server for stack tests: answers every GET and POST with its own port, or with `--reset`
accepts each connection and resets it without reading a byte (an instance going away under nginx).

`python -m tests.support.echo_server PORT [--reset]`"""
from __future__ import annotations

import socket
import struct
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class EchoPort(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        body = str(self.server.server_address[1]).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *_args) -> None:
        pass


def reset_every_connection(port: int) -> None:
    listener = socket.create_server(("127.0.0.1", port))
    while True:
        client, _ = listener.accept()
        # Linger 0: close() sends RST at once, as the kernel does for connections left in a closed listen queue.
        client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        client.close()


if __name__ == "__main__":
    port = int(sys.argv[1])
    if "--reset" in sys.argv[2:]:
        reset_every_connection(port)
    else:
        ThreadingHTTPServer(("127.0.0.1", port), EchoPort).serve_forever()
