"""Stopping a worker: SIGTERM's handler runs in the main thread between two of its bytecodes, possibly inside the
worker's own wait while that thread holds the wait's lock; stopping must neither wait for that lock nor be lost."""
import threading

from services.platform.worker import Worker
from tests.support.polling import wait_for


def test_stop_returns_at_once_even_while_its_own_thread_holds_the_wait_s_lock_and_still_ends_the_wait():
    worker = Worker(None, "unit-worker")
    stopped = threading.Event()

    def handler_inside_wait():
        # As when the signal is handled inside Event.wait(), between taking its lock and giving it up.
        with worker._stop._cond:
            worker.stop()
            stopped.set()

    thread = threading.Thread(target=handler_inside_wait, daemon=True)
    thread.start()
    thread.join(timeout=10)
    assert stopped.is_set() and not thread.is_alive()
    assert worker.stopping
    assert wait_for(worker._stop.is_set, "the wait to be woken", timeout=10)


def test_a_wait_in_progress_ends_when_the_worker_is_stopped_from_another_thread():
    worker = Worker(None, "unit-worker")
    waited = threading.Event()

    def long_wait():
        worker.wait(3600)
        waited.set()

    thread = threading.Thread(target=long_wait, daemon=True)
    thread.start()
    worker.stop()
    assert waited.wait(timeout=10)


def test_a_stopped_worker_does_not_wait():
    worker = Worker(None, "unit-worker")
    worker.stop()
    finished = threading.Event()
    threading.Thread(target=lambda: (worker.wait(3600), finished.set()), daemon=True).start()
    assert finished.wait(timeout=10)
