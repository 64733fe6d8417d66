"""order-ms's status consumer SIGKILLed every few seconds while staff move deliveries: the supervisor restarts it,
it reads again what it had not committed, and order-ms's read model ends with every change delivery-ms published,
each logged once and in version order, and each order showing its delivery's status and version."""
from __future__ import annotations

import signal
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for_future

import requests

from scripts.chaos import faults
from scripts.chaos.scenario import RECOVERY_TIMEOUT, Scenario, ScenarioResult
from scripts.chaos.stack import ChaosStack
from scripts.chaos.status_accounting import account_status_changes

NAME = "status consumer SIGKILL"
PROCESS = "order-status-consumer"
KILL_EVERY = (1.0, 3.0)  # seconds the status consumer gets to work between kills
# Each delivery's moves; every fourth is canceled instead of delivered.
DELIVERED = ("IN_DELIVERY", "COMPLETED")
CANCELED = ("CANCELED",)
MOVERS = 8


def staff_headers(stack: ChaosStack) -> dict[str, str]:
    login = requests.post(f"{stack.base_url}/order-ms/login", json=stack.state.staff, timeout=10)
    login.raise_for_status()
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def deliveries_of(stack: ChaosStack, order_ids: list[str]) -> dict[str, str]:
    """order_id -> delivery_id, from delivery-ms's database."""
    conn = stack.admin_connect()
    try:
        cursor = conn.cursor()
        cursor.execute(f"SELECT order_id, delivery_id FROM `{stack.database('delivery_ms')}`.delivery_status"
                       f" WHERE order_id IN ({', '.join('?' * len(order_ids))})", tuple(order_ids))
        return dict(cursor.fetchall())
    finally:
        conn.close()


def wait_for_deliveries(stack: ChaosStack, order_ids: list[str], timeout: float) -> dict[str, str]:
    """Polls until every order has its delivery (the faults come after); an order still without one is found
    lost by the scenario's own account."""
    deadline = time.monotonic() + timeout
    while True:
        found = deliveries_of(stack, order_ids) if order_ids else {}
        if len(found) == len(order_ids) or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def move_all(stack: ChaosStack, deliveries: list[str], headers: dict[str, str]) -> list[str]:
    """Every delivery through its moves, MOVERS at a time; the moves that were not answered 200."""
    def move(index_and_id: tuple[int, str]) -> list[str]:
        index, delivery_id = index_and_id
        refused = []
        with requests.Session() as session:
            for status in CANCELED if index % 4 == 3 else DELIVERED:
                answer = session.put(f"{stack.base_url}/delivery-ms/deliveries/{delivery_id}/status",
                                     json={"status": status}, headers=headers, timeout=30)
                if answer.status_code != 200:
                    refused.append(f"{delivery_id} -> {status}: {answer.status_code}")
        return refused

    with ThreadPoolExecutor(MOVERS) as pool:
        return [problem for problems in pool.map(move, enumerate(deliveries)) for problem in problems]


def run(scenario: Scenario) -> ScenarioResult:
    stack = scenario.stack
    total = scenario.settings.count(400, 40)
    orders = scenario.place_orders(total, total / scenario.settings.seconds(10, 4))
    orders.wait(RECOVERY_TIMEOUT + total)
    accepted = [outcome.order_id for outcome in orders.results if outcome.accepted]
    delivery_ids = wait_for_deliveries(stack, accepted, scenario.settings.delivery_wait)
    headers = staff_headers(stack)

    scenario.fault_begins()
    with ThreadPoolExecutor(1) as mover:
        moving = mover.submit(move_all, stack, [delivery_ids[order_id] for order_id in accepted
                                                if order_id in delivery_ids], headers)
        kills = 0
        while not moving.done():
            # Only a running status consumer is killed: one in the supervisor's restart back-off is down already.
            while not stack.processes()[PROCESS].running and not wait_for_future([moving], 0.1).done:
                pass
            if wait_for_future([moving], scenario.rng.uniform(*KILL_EVERY)).done:
                break
            faults.send(stack, PROCESS, signal.SIGKILL)
            scenario.restarted_by_fault(PROCESS)
            kills += 1
        refused_moves = moving.result()
    scenario.fault_ends()

    account = account_status_changes(stack, accepted, RECOVERY_TIMEOUT)
    scenario.failures.extend(account.failures())
    if refused_moves:
        scenario.failures.append(f"{len(refused_moves)} staff moves were not answered 200, e.g. {refused_moves[:3]}")
    scenario.details["status_changes"] = {"published": account.published, "logged": account.logged,
                                          "lost": account.lost, "doubled": account.doubled,
                                          "out_of_order": account.out_of_order, "behind": account.behind}
    scenario.notes.append(f"{account.published} status changes published for {account.orders} orders, "
                          f"{account.logged} logged by order-ms")
    return scenario.finish(
        f"SIGKILL {PROCESS} every {KILL_EVERY[0]:.0f}-{KILL_EVERY[1]:.0f} s ({kills} kills) while staff moved "
        f"{len(delivery_ids)} deliveries through {len(DELIVERED)} moves each (every fourth canceled)", orders)
