"""Where a change-log poller stands: it releases rows once each and in id order, holding the rows above a gap
(an id whose transaction has not committed yet) until the gap fills or has waited `hold_seconds`.

AUTO_INCREMENT ids are handed out when a row is inserted, not when its transaction commits, so a reader asking for
`id > last` can see 12 before 11 commits. A reader that moved past 11 would never show it; one that waited
forever would stop at an id a rolled-back transaction left unused. So an id missing below the newest one seen is
looked for again at every poll, and given up after the hold time (docs/decisions/0006-stream-serving.md)."""
from __future__ import annotations

from collections.abc import Iterable


class ChangeCursor:
    """Rows are dicts with an integer `id`; `start` is the id of the last row already dealt with."""

    def __init__(self, start: int, hold_seconds: float, max_gaps: int = 1000):
        self.position = start  # every id up to here was released or given up
        self.newest = start  # the highest id seen: the next poll asks for ids above it
        self._hold_seconds = hold_seconds
        # A jump of the counter (e.g. a server restart, a large rolled-back batch) would leave more missing ids
        # than are worth asking for: only the highest ones, the likeliest still to commit, are held.
        self._max_gaps = max_gaps
        self._gaps: dict[int, float] = {}  # missing id -> when it was first missed
        self._held: dict[int, dict] = {}  # rows seen above a gap, waiting for it

    @property
    def gaps(self) -> list[int]:
        """The missing ids to look for again, lowest first."""
        return sorted(self._gaps)

    def admit(self, rows: Iterable[dict], now: float) -> list[dict]:
        """Take the rows of one poll (new ones and filled gaps, in any order); returns those now released."""
        for row in sorted(rows, key=lambda r: r["id"]):
            row_id = row["id"]
            if row_id in self._gaps:
                del self._gaps[row_id]
                self._held[row_id] = row
            elif row_id > self.newest:
                for missing in range(max(self.newest + 1, row_id - self._max_gaps), row_id):
                    self._gaps[missing] = now
                self.newest = row_id
                self._held[row_id] = row
        excess = len(self._gaps) - self._max_gaps
        for dropped in sorted(self._gaps)[:max(excess, 0)]:
            del self._gaps[dropped]
        return self._release()

    def expire(self, now: float) -> tuple[list[dict], list[int]]:
        """Give up the gaps missing for `hold_seconds` or longer: (rows released by that, ids given up)."""
        given_up = sorted(i for i, since in self._gaps.items() if now - since >= self._hold_seconds)
        for missing in given_up:
            del self._gaps[missing]
        return self._release(), given_up

    def _release(self) -> list[dict]:
        lowest_gap = min(self._gaps) if self._gaps else None
        ready = sorted(i for i in self._held if lowest_gap is None or i < lowest_gap)
        self.position = lowest_gap - 1 if lowest_gap is not None else self.newest
        return [self._held.pop(i) for i in ready]
