"""Wake-ups from a service to its relay: sent after a commit that wrote an outbox row, and only then."""
import threading
import time

from services.platform import db
from services.platform.outbox import Outbox
from services.platform.records import Record
from services.platform.settings import Settings, platform_fields
from services.platform.wakeup import WakeUpListener, WakeUpSender, listen
from tests.unit.platform.test_db_pool import FakeConnection


def address(listener: WakeUpListener) -> str:
    host, port = listener._socket.getsockname()
    return f"{host}:{port}"


def test_a_wake_up_ends_the_wait_and_is_used_up_by_it():
    listener = WakeUpListener("127.0.0.1:0")
    try:
        assert listener.wait(0.01) is False
        sender = WakeUpSender(address(listener))
        sender.send()
        sender.send()
        assert listener.wait(1.0) is True
        assert listener.wait(0.01) is False
    finally:
        listener.close()


def test_an_interrupt_ends_a_long_wait_at_once():
    listener = WakeUpListener("127.0.0.1:0")
    try:
        threading.Timer(0.05, listener.interrupt).start()
        started = time.monotonic()
        listener.wait(5.0)
        assert time.monotonic() - started < 1.0
    finally:
        listener.close()


def test_a_taken_address_means_polling_only():
    listener = WakeUpListener("127.0.0.1:0")
    try:
        assert listen(address(listener)) is None
        assert listen("") is None
    finally:
        listener.close()


class UnitEvent:
    event_id = "e1"

    def record(self) -> Record:
        return Record(topic="unit_topic", key=b"k", value=b"{}", headers=[("event_id", b"e1")])


def test_the_relay_is_woken_after_a_commit_that_wrote_an_outbox_row_and_only_then(monkeypatch):
    monkeypatch.setattr(db, "connect", lambda _settings, **_options: FakeConnection())
    listener = WakeUpListener("127.0.0.1:0")
    pool = db.ConnectionPool(Settings(**platform_fields(db_name="unit")), size=1)
    outbox = Outbox("unit_outbox", "unit_topic")
    outbox.wake_relay_at(address(listener))
    try:
        with pool.transaction() as cursor:
            cursor.execute("INSERT INTO orders ...")
        assert listener.wait(0.05) is False
        try:
            with pool.transaction() as cursor:
                outbox.add(cursor, UnitEvent())
                raise ValueError("rolled back")
        except ValueError:
            pass
        assert listener.wait(0.05) is False
        with pool.transaction() as cursor:
            outbox.add(cursor, UnitEvent())
        assert listener.wait(1.0) is True
    finally:
        listener.close()
