"""How many rows of a service's outbox still wait for its relay (read as the server's admin)."""
from __future__ import annotations

from scripts.chaos.stack import ChaosStack


def pending_outbox_rows(stack: ChaosStack, service: str, table: str) -> int:
    conn = stack.admin_connect()
    try:
        cursor = conn.cursor()
        cursor.execute(f"SELECT COUNT(*) FROM `{stack.database(service)}`.`{table}` WHERE sent_at IS NULL")
        return cursor.fetchone()[0]
    finally:
        conn.close()
