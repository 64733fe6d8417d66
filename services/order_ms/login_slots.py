"""At most LOGIN_CONCURRENCY password checks at once in one order-ms instance, so logins never hold every worker.

A password check is an argon2id hash of 46 MiB, about a tenth of a second of a core; the login rates
(login_throttle.py) bound how many there are per minute, but the ones they allow may all arrive at once and take
every gunicorn worker while orders queue. A login that finds every slot taken is answered 429 at once, before
anything is counted or hashed: a bulkhead that keeps the other workers for everything else.

The slots are files locked with flock(2): shared by every worker process (and thread) of the instance, and freed
by the kernel when a worker dies mid-check, so a killed worker never keeps a slot."""
from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from services.order_ms.metrics import LOGIN_FAILURES
from services.platform import problems

BUSY_RETRY_AFTER_SECONDS = 1
# The app.config key of the instance's LoginSlots.
LOGIN_SLOTS = "LOGIN_SLOTS"


class LoginSlots:
    """`count` slot files in a folder of their own, made when the app is (in gunicorn's master, before the fork)."""

    def __init__(self, count: int):
        self.folder = Path(tempfile.mkdtemp(prefix="order-ms-login-slots-"))
        self.paths = [self.folder / f"slot-{index}" for index in range(max(count, 1))]
        for path in self.paths:
            path.touch()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Holds a free slot for the block, or raises the 429 answer when every slot is taken."""
        for path in self.paths:
            descriptor = os.open(path, os.O_RDONLY)
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(descriptor)
                continue
            try:
                yield
            finally:
                os.close(descriptor)  # closing the descriptor releases its lock
            return
        LOGIN_FAILURES.labels("busy").inc()
        raise problems.too_many_requests(
            "logins-busy", "Too Many Logins At Once",
            "The service is checking as many passwords as it checks at once; yours was not checked.",
            f"Log in again in {BUSY_RETRY_AFTER_SECONDS} second (see Retry-After); nothing was counted against you.",
            retry_after=BUSY_RETRY_AFTER_SECONDS,
        )
