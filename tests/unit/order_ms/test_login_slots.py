"""The instance's password-check slots: shared by processes, refused at once when all are taken, and freed when
the process holding one dies (services/order_ms/login_slots.py)."""
import os
import signal

import pytest
from flask import Flask

from services.order_ms.login_slots import LoginSlots
from services.platform.problems import Problem


def test_each_slot_is_held_once_and_the_next_login_is_told_to_come_back_in_a_second():
    slots = LoginSlots(2)
    with slots.held(), slots.held():
        with Flask(__name__).test_request_context("/order-ms/login"), pytest.raises(Problem) as caught:
            with slots.held():
                pass
    assert caught.value.status == 429 and caught.value.headers == {"Retry-After": "1"}
    assert caught.value.slug == "logins-busy" and "nothing was counted" in caught.value.hint
    with slots.held():
        pass


def test_a_slot_is_shared_with_other_processes_and_freed_when_its_holder_is_killed():
    slots = LoginSlots(1)
    ready_read, ready_write = os.pipe()
    child = os.fork()
    if child == 0:
        with slots.held():
            os.write(ready_write, b"x")
            signal.pause()
        os._exit(0)
    os.read(ready_read, 1)
    with Flask(__name__).test_request_context("/order-ms/login"), pytest.raises(Problem):
        with slots.held():
            pass
    os.kill(child, signal.SIGKILL)
    os.waitpid(child, 0)
    with slots.held():
        pass


@pytest.mark.parametrize("asked,made", [(0, 1), (1, 1), (3, 3)])
def test_there_is_always_at_least_one_slot(asked, made):
    assert len(LoginSlots(asked).paths) == made
