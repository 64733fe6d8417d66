"""Stopping a worker from another thread (run_worker's stop-signals thread, stop_signals.py) ends a wait in progress,
and a stopped worker never waits again. Signals themselves: test_stop_signals.py."""
import threading

from services.platform.worker import Worker


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
