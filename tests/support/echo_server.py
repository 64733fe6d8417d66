"""A tiny HTTP server for stack tests: answers every GET and POST with its own port, or with `--reset`
accepts each connection and resets it without reading a byte (an instance going away under nginx), or with
`--die-mid-request FILE` reads each whole request, notes its method in FILE and closes the connection without
answering (what a worker killed while working on a request leaves behind).

`python -m tests.support.echo_server PORT [--reset | --die-mid-request FILE]`"""
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


class DiesMidRequest(EchoPort):
    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with open(self.server.noted_requests, "a") as noted:
            noted.write(f"{self.command}\n")
        self.close_connection = True
        self.connection.close()

    do_GET = do_POST = _answer


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
    elif "--die-mid-request" in sys.argv[2:]:
        server = ThreadingHTTPServer(("127.0.0.1", port), DiesMidRequest)
        server.noted_requests = sys.argv[sys.argv.index("--die-mid-request") + 1]
        server.serve_forever()
    else:
        ThreadingHTTPServer(("127.0.0.1", port), EchoPort).serve_forever()
