"""order-ms's status consumer SIGKILLed every few seconds while staff move deliveries: the supervisor restarts it,
it reads again what it had not committed, and order-ms's read model ends with every change delivery-ms published,
each logged once and in version order, and each order showing its delivery's status and version."""
from __future__ import annotations

import signal
import time

import requests

from scripts.chaos import faults
from scripts.chaos.load import PacedLoad
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


class MoveDeliveries:
    """One delivery through its moves per call, as staff would click them; the moves not answered 200."""

    def __init__(self, base_url: str, headers: dict[str, str], delivery_ids: list[str]):
        self.base_url, self.headers, self.delivery_ids = base_url, headers, delivery_ids

    def __call__(self, session: requests.Session, index: int) -> list[str]:
        delivery_id = self.delivery_ids[index]
        refused = []
        for status in CANCELED if index % 4 == 3 else DELIVERED:
            try:
                answer = session.put(f"{self.base_url}/delivery-ms/deliveries/{delivery_id}/status",
                                     json={"status": status}, headers=self.headers, timeout=30)
            except requests.RequestException as exc:
                refused.append(f"{delivery_id} -> {status}: {type(exc).__name__}")
                break
            if answer.status_code != 200:
                refused.append(f"{delivery_id} -> {status}: {answer.status_code}")
                break
        return refused


def run(scenario: Scenario) -> ScenarioResult:
    stack = scenario.stack
    total = scenario.settings.count(400, 40)
    orders = scenario.place_orders(total, total / scenario.settings.seconds(10, 4))
    orders.wait(RECOVERY_TIMEOUT + total)
    accepted = [outcome.order_id for outcome in orders.results if outcome.accepted]
    delivery_ids = wait_for_deliveries(stack, accepted, scenario.settings.delivery_wait)

    moved = [delivery_ids[order_id] for order_id in accepted if order_id in delivery_ids]
    # Paced over long enough for several kills even in a small run.
    moves = PacedLoad(MoveDeliveries(stack.base_url, staff_headers(stack), moved), len(moved),
                      max(1.0, len(moved) / scenario.settings.seconds(30, 10)), workers=MOVERS)
    scenario.fault_begins()
    moves.start()
    kills, killed_pid = 0, None
    while not moves.finished:
        # Only a running status consumer is killed, and never the one just killed again: until the supervisor has
        # restarted it, the state file may still name the dead pid.
        while not moves.finished and (not (process := stack.processes()[PROCESS]).running
                                      or process.pid == killed_pid):
            moves.wait(0.1)
        if moves.wait(scenario.rng.uniform(*KILL_EVERY)):
            break
        killed_pid = faults.send(stack, PROCESS, signal.SIGKILL)
        scenario.restarted_by_fault(PROCESS)
        kills += 1
    scenario.fault_ends()
    refused_moves = [problem for problems in moves.results for problem in problems]

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
        f"{len(moved)} deliveries through {len(DELIVERED)} moves each (every fourth canceled)", orders)
