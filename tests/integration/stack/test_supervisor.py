"""The supervisor as the stack runs it: a process that dies is restarted and counted; one held down on purpose
stays down until released, then comes back at once."""
import signal
import sys

import pytest

from scripts.stack.holds import Holds
from scripts.stack.supervisor import FIRST_RESTART_DELAY, ProcessSpec, Supervisor
from tests.support.polling import wait_for

SLEEPER = ProcessSpec("sleeper", [sys.executable, "-c", "import time; time.sleep(300)"])


@pytest.fixture
def supervisor(tmp_path):
    holds = Holds(tmp_path / "holds")
    supervised = Supervisor(tmp_path, echo=False, holds=holds)
    supervised.start(SLEEPER)
    yield supervised
    supervised.stop_all()


def restarted(supervisor, old_pid):
    """One supervision round; the snapshot once the sleeper runs again under a new pid."""
    supervisor.watch()
    snapshot = supervisor.snapshot()["sleeper"]
    return snapshot if snapshot["running"] and snapshot["pid"] != old_pid else None


def test_a_killed_process_is_restarted_and_counted(supervisor):
    old_pid = supervisor.pid("sleeper")
    supervisor.children["sleeper"].process.send_signal(signal.SIGKILL)
    snapshot = wait_for(lambda: restarted(supervisor, old_pid), "the sleeper restarted", timeout=10)
    assert snapshot["restarts"] == 1
    assert snapshot["last_exit_code"] == -signal.SIGKILL
    assert snapshot["held"] is False


def test_a_held_process_stays_down_until_released_then_comes_back_at_once(supervisor):
    old_pid = supervisor.pid("sleeper")
    supervisor.holds.hold("sleeper")
    supervisor.children["sleeper"].process.send_signal(signal.SIGTERM)
    wait_for(lambda: supervisor.watch() or supervisor.snapshot()["sleeper"]["last_exit_code"] is not None,
             "the supervisor noticing the exit", timeout=10)
    # Several times the first restart delay: an unheld process would have been back long before.
    with pytest.raises(AssertionError, match="timed out"):
        wait_for(lambda: restarted(supervisor, old_pid), "a restart while held", timeout=FIRST_RESTART_DELAY * 4)
    snapshot = supervisor.snapshot()["sleeper"]
    assert (snapshot["running"], snapshot["held"], snapshot["restarts"]) == (False, True, 0)

    supervisor.holds.release("sleeper")
    snapshot = wait_for(lambda: restarted(supervisor, old_pid), "the sleeper back after its release", timeout=10)
    assert (snapshot["restarts"], snapshot["held"]) == (1, False)
    # A stop on request is no failure: the next crash gets the first, short restart delay again.
    assert supervisor.children["sleeper"].failures_in_a_row == 0
