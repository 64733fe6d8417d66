"""Workers beside the main one in a worker process (the reconciler next to the order relay): the process is alive
only while each is, and a companion whose thread died of a bug makes the liveness probe fail, naming it."""
import threading

from services.platform.worker import Worker, health_of


class Stub(Worker):
    def __init__(self, client_id: str, alive: bool = True):
        super().__init__(None, client_id)
        self._alive = alive

    def health(self):
        return (True, "running") if self._alive else (False, "no progress for 120 s")


def finished_thread() -> threading.Thread:
    thread = threading.Thread(target=lambda: None)
    thread.start()
    thread.join()
    return thread


def running_thread(stop: threading.Event) -> threading.Thread:
    thread = threading.Thread(target=stop.wait, daemon=True)
    thread.start()
    return thread


def test_one_worker_alone_answers_with_its_own_health():
    assert health_of([Stub("relay")]) == (True, "running")
    assert health_of([Stub("relay", alive=False)]) == (False, "no progress for 120 s")


def test_a_stalled_companion_makes_the_process_unhealthy_naming_it():
    stop = threading.Event()
    try:
        assert health_of([Stub("relay"), Stub("reconciler", alive=False)], [running_thread(stop)]) == (
            False, "reconciler: no progress for 120 s")
        assert health_of([Stub("relay"), Stub("reconciler")], [running_thread(stop)]) == (True, "running")
    finally:
        stop.set()


def test_a_companion_whose_thread_died_makes_the_process_unhealthy_unless_it_was_stopped():
    companion = Stub("reconciler")
    alive, why = health_of([Stub("relay"), companion], [finished_thread()])
    assert not alive and "reconciler stopped unexpectedly" in why
    companion.stop()
    assert health_of([Stub("relay"), companion], [finished_thread()]) == (True, "running")


def test_a_worker_started_in_a_thread_runs_and_stops_without_taking_signals():
    class Counting(Worker):
        steps = 0

        def step(self):
            self.steps += 1
            if self.steps == 3:
                self.stop()
            return True

    worker = Counting(None, "beside")
    thread = threading.Thread(target=worker.run)
    thread.start()
    thread.join(timeout=10)
    assert not thread.is_alive() and worker.steps == 3
