"""An in-memory change log for the stream tests: rows become visible when `commit` says so, in any order, as
AUTO_INCREMENT ids of concurrent transactions do; it answers the queries of platform.streams.ChangeLog."""
from __future__ import annotations

from services.platform.streams import ChangeLog


class MemoryChangeLog(ChangeLog):
    def __init__(self, event: str = "thing-changed", scope_column: str = "owner"):
        super().__init__(event, "unused", ("owner",), scope_column, data_of=lambda row: {"owner": row[scope_column]})
        self.rows: dict[int, dict] = {}

    def commit(self, *rows: dict) -> None:
        for row in rows:
            self.rows[row["id"]] = row

    def newest_id(self, pool) -> int:
        return max(self.rows, default=0)

    def after(self, pool, after: int, limit: int) -> list[dict]:
        return [self.rows[i] for i in sorted(self.rows) if i > after][:limit]

    def with_ids(self, pool, ids: list[int]) -> list[dict]:
        return [self.rows[i] for i in ids if i in self.rows]

    def replay(self, pool, scope, after: int, upto: int, limit: int) -> list[dict]:
        return [self.rows[i] for i in sorted(self.rows)
                if after < i <= upto and (scope is None or self.rows[i][self.scope_column] == scope)][:limit]
