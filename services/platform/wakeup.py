"""Wake-up calls from a service to the relay of its outbox: one UDP datagram after each commit that wrote an
outbox row, so that an idle relay publishes within milliseconds without asking the database a hundred times a
second. Best effort by design: a datagram that is lost, or that no relay listens for, costs at most one poll
interval, after which the relay looks at the table anyway."""
from __future__ import annotations

import contextlib
import logging
import select
import socket

log = logging.getLogger(__name__)

DATAGRAM = b"!"


def parse_address(address: str) -> tuple[str, int] | None:
    """`host:port` as a socket address; None for the empty string (no wake-ups)."""
    if not address:
        return None
    host, _, port = address.rpartition(":")
    return host, int(port)


class WakeUpSender:
    """Sends wake-ups to `address` (host:port), or does nothing when it is empty."""

    def __init__(self, address: str):
        self._address = parse_address(address)
        self._socket: socket.socket | None = None

    def send(self) -> None:
        if self._address is None:
            return
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                self._socket.setblocking(False)
            self._socket.sendto(DATAGRAM, self._address)
        except OSError as exc:
            # Nobody listening, a full buffer: the relay's next poll finds the rows all the same.
            log.debug("wake-up not sent: %s", exc)


class WakeUpListener:
    """The relay's end: waits until a wake-up arrives or the timeout runs out."""

    def __init__(self, address: str):
        self._address = parse_address(address)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._socket.setblocking(False)
        self._socket.bind(self._address)

    def wait(self, timeout: float) -> bool:
        """True when woken; every wake-up that arrived meanwhile is used up by this one call."""
        readable, _, _ = select.select([self._socket], [], [], timeout)
        while True:
            try:
                self._socket.recv(64)
            except BlockingIOError:
                return bool(readable)

    def interrupt(self) -> None:
        """Ends a wait in progress (from a signal handler on SIGTERM)."""
        with contextlib.suppress(OSError):
            self._socket.sendto(DATAGRAM, self._socket.getsockname())

    def close(self) -> None:
        self._socket.close()


def listen(address: str) -> WakeUpListener | None:
    """A listener on `address`, or None when it is empty or taken (e.g. by a second replica of the relay on the
    same host): the relay then only polls."""
    if not address:
        return None
    try:
        return WakeUpListener(address)
    except OSError as exc:
        log.warning("not listening for wake-ups on %s (%s); polling only", address, exc)
        return None
