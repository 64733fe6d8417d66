"""A service's outbox as the chaos tool sees it (as the server's admin): how many rows still wait for its relay, and
the fault that drops them (marked sent without being sent)."""
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


def drop_pending_outbox_rows(stack: ChaosStack, service: str, table: str) -> list[str]:
    """Marks every waiting row sent without sending it, as a relay that loses events after marking them would;
    returns their keys."""
    conn = stack.admin_connect()
    conn.autocommit = False  # the keys listed are exactly the rows marked
    try:
        cursor = conn.cursor()
        cursor.execute(f"SELECT message_key FROM `{stack.database(service)}`.`{table}` WHERE sent_at IS NULL"
                       " FOR UPDATE")
        keys = [bytes(key).decode() for (key,) in cursor.fetchall()]
        cursor.execute(f"UPDATE `{stack.database(service)}`.`{table}` SET sent_at = NOW(6) WHERE sent_at IS NULL")
        conn.commit()
        return keys
    finally:
        conn.close()
