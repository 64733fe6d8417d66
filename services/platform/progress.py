"""Whether a consumer loop makes progress, for its liveness probe and its stall gauge."""
from __future__ import annotations

import time
from collections.abc import Callable


class ProgressWatch:
    """Whether a consumer loop makes progress: from the moment it has work (records in hand, or lag) it counts as
    stalled until it commits or finds itself caught up. Read from another thread (the health endpoint, a gauge),
    so it sees a loop that hangs or spins anywhere, in the client library or in a database call."""

    def __init__(self, stall_seconds: float, clock: Callable[[], float] = time.monotonic):
        self.stall_seconds = stall_seconds
        self._clock = clock
        self._since = clock()

    def progressed(self) -> None:
        """It committed, or polled and found nothing left to do."""
        self._since = self._clock()

    def stalled_seconds(self) -> float:
        """How long it has had work without committing any (0 while it keeps up)."""
        return max(0.0, self._clock() - self._since)

    def health(self) -> tuple[bool, str]:
        stalled = self.stalled_seconds()
        if stalled > self.stall_seconds:
            return False, (f"no progress for {stalled:.0f}s with work waiting (the limit is {self.stall_seconds:g}s):"
                           " it neither committed nor caught up")
        return True, "making progress"
