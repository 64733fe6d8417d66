"""What the staff board's stream shows of one order's delivery, read from delivery-ms's database the way the stream
reads it (the `delivery_board_changes` view, board_stream's filter and event data): the tests' view of the board."""
from __future__ import annotations

from services.delivery_ms import board_stream


def board_log(delivery_db, order_id: str) -> list[tuple]:
    """(status, previous_status, version) of every `delivery-status` event of the order's delivery, oldest first."""
    cursor = delivery_db.cursor(dictionary=True)
    cursor.execute("SELECT b.id, b.headers, b.payload, b.user_id FROM delivery_board_changes b"
                   " JOIN delivery_outbox o ON o.id = b.id WHERE o.message_key = ? ORDER BY b.id", (order_id,))
    events = [board_stream.event_data(row) for row in cursor.fetchall() if board_stream.is_status_change(row)]
    cursor.close()
    return [(event["status"], event["previous_status"], event["version"]) for event in events]
