"""What every scenario shares: its own customer, the load it drives, the window of its fault, the restarts it
caused on purpose, and, once the load is done, the account of every order and the verdict against the promise:
an order that got a 201 becomes exactly one delivery whatever fails, and no failure of one part stops the rest."""
from __future__ import annotations

import os
import random
import re
import time
import traceback
from collections import Counter
from dataclasses import dataclass, field

from scripts.chaos.accounting import OrderAccount, account_orders
from scripts.chaos.evidence import LogMarks, notable
from scripts.chaos.latency import Window, describe, failed, failure_summary, latency_summary, p99_ms
from scripts.chaos.load import Customer, PacedLoad, PlaceOrders, ReadLists
from scripts.chaos.settings import ChaosSettings
from scripts.chaos.stack import CONSUMER_GROUP, ChaosStack
from scripts.chaos.topics import TopicTally, group_lag
from services.contracts import order_created

# A stack that is not whole again this long after its scenario would have needed someone to restart something.
RECOVERY_TIMEOUT = 60.0
# Examples quoted in a failure, so a reader can look them up; the JSON report has all of them.
EXAMPLES = 5


@dataclass
class Run:
    """What the scenarios of one run share: the settings, the stack and the tallies of the two order topics."""

    settings: ChaosSettings
    stack: ChaosStack
    new_orders: TopicTally
    dead_letters: TopicTally
    rng: random.Random  # seeded: a run's fault timings can be played again


@dataclass
class ScenarioResult:
    name: str
    fault: str = ""
    sent: int = 0
    accepted: int = 0
    failed_requests: int = 0
    delivered: int = 0
    duplicates: int = 0
    lost: int = 0
    post_p99_fault_ms: float | None = None
    post_p99_ms: float | None = None
    restarts_by_fault: int = 0
    restarts_other: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    details: dict = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return not self.failures


def crashed(name: str, started: float, exc: BaseException) -> ScenarioResult:
    """The result of a scenario whose own code failed: it proves nothing, so it fails the run."""
    return ScenarioResult(name=name, seconds=time.monotonic() - started,
                          failures=[f"the scenario could not run to its end: {type(exc).__name__}: {exc}"],
                          details={"traceback": traceback.format_exc()})


class Scenario:
    """One scenario's bookkeeping, from its customer to its verdict."""

    def __init__(self, run: Run, name: str):
        self.run = run
        self.name = name
        self.stack = run.stack
        self.settings = run.settings
        self.rng = run.rng
        self.started = time.monotonic()
        self.started_wall = time.time()
        # The machine is shared: its load says how much of the latency is the fault's and how much the neighbours'.
        self.load_average = os.getloadavg()[0]
        self.restarts_before = self.stack.restarts()
        self.log_marks = LogMarks(self.stack.logs)
        self.customer = Customer.sign_up(self.stack.base_url, re.sub(r"[^a-z0-9]+", "-", name.lower()))
        self.by_fault: Counter[str] = Counter()
        self.fault_window: Window | None = None
        self._fault_start: float | None = None
        self.notes: list[str] = []
        self.failures: list[str] = []
        self.details: dict = {}
        self.log_lines: dict[str, list[str]] = {}

    # --- driving ---------------------------------------------------------------------------------------
    def place_orders(self, total: int, rate: float, label: str = "") -> PacedLoad:
        return PacedLoad(PlaceOrders(self.stack.base_url, self.customer, label), total, rate).start()

    def read_lists(self, total: int, rate: float) -> PacedLoad:
        return PacedLoad(ReadLists(self.stack.base_url, self.customer), total, rate, workers=8).start()

    def fault_begins(self) -> None:
        self._fault_start = time.monotonic()

    def fault_ends(self) -> None:
        self.fault_window = Window(self._fault_start if self._fault_start is not None else self.started,
                                   time.monotonic())

    def restarted_by_fault(self, process: str) -> None:
        """The supervisor will restart `process` because of what this scenario did to it."""
        self.by_fault[process] += 1

    @staticmethod
    def keep_fault(seconds: float) -> None:
        """Let the fault last: its duration is what the scenario is about, not a wait for the system."""
        time.sleep(seconds)

    def _wait_for_consumers(self) -> dict[int, str]:
        """Polls until the consumer group has committed every record of new_orders (a consumer that crash-loops
        on one record looks alive now and then, but never gets past it); returns the partitions still behind."""
        deadline = time.monotonic() + RECOVERY_TIMEOUT
        while True:
            self.run.new_orders.catch_up()
            ends = self.run.new_orders.ends()
            lag = group_lag(self.stack.kafka_servers, self.stack.kafka_login, CONSUMER_GROUP, order_created.TOPIC, ends)
            behind = {partition: f"{ends[partition] - records} of {ends[partition]} committed"
                      for partition, records in lag.items() if records > 0}
            if not behind or time.monotonic() > deadline:
                return behind
            time.sleep(0.5)

    # --- the verdict -----------------------------------------------------------------------------------
    def finish(self, fault: str, orders: PacedLoad | list[PacedLoad], reads: PacedLoad | None = None,
               failures_allowed: Window | None = None, p99_limit_ms: float | None = None) -> ScenarioResult:
        """Waits for the load (one or more order loads of this scenario's customer), accounts for every order
        and judges. Failed requests are allowed only inside `failures_allowed` (the fault itself makes them
        unavoidable there); POST p99 during the fault must stay within `p99_limit_ms` when given."""
        if self.fault_window is None:
            self.fault_ends()
        window = self.fault_window
        order_loads = orders if isinstance(orders, list) else [orders]
        self._wait_for_loads([*order_loads, *([reads] if reads else [])])
        outcomes = [outcome for load in order_loads for outcome in load.results]
        posts = [attempt for outcome in outcomes for attempt in outcome.attempts]
        everything = posts + [attempt for result in (reads.results if reads else []) for attempt in result]

        waited_from = time.monotonic()
        account = account_orders(self.stack, self.customer.user_id, outcomes, self.settings.delivery_wait)
        problems = self.stack.wait_whole(RECOVERY_TIMEOUT)
        lag = self._wait_for_consumers()
        restarts = self.stack.restarts()
        self.log_lines = self.log_marks.lines_since()
        unexpected = {
            name: restarts[name] - self.restarts_before.get(name, 0) - self.by_fault[name] for name in restarts
        }
        latency = latency_summary(posts, window)

        result = ScenarioResult(
            name=self.name, fault=fault, sent=account.sent, accepted=account.accepted,
            failed_requests=len(failed(everything)), delivered=account.delivered, duplicates=account.duplicates,
            lost=len(account.lost), post_p99_fault_ms=p99_ms(posts, window), post_p99_ms=p99_ms(posts),
            restarts_by_fault=sum(self.by_fault.values()),
            restarts_other={name: count for name, count in unexpected.items() if count},
            notes=self.notes, failures=self.failures, details=self.details)
        accepted_ids = [outcome.order_id for outcome in outcomes if outcome.accepted]
        never_published = [order_id for order_id in account.lost if self.run.new_orders.counts[order_id.encode()] == 0]
        failed_outside = failed(everything, failures_allowed, outside=True)
        self._judge(result, account, never_published, accepted_ids, failed_outside, failures_allowed is not None,
                    p99_limit_ms, problems, lag)
        self._describe(result, account, accepted_ids, latency, waited_from,
                       failed(everything, failures_allowed) if failures_allowed else [])
        self.details.update(account=account.details, lost=account.lost, never_published=never_published,
                            accepted_not_stored=account.accepted_not_stored, problems=problems, consumer_lag=lag,
                            restarts_by_fault=dict(self.by_fault), failures_by_kind=failure_summary(everything),
                            post_latency_ms=latency,
                            # When each unexpected failure started (s from the scenario's start), how long it took.
                            failed_outside=[{"at_s": round(a.started - self.started, 3), "seconds": round(a.seconds, 3),
                                             "kind": a.kind, "status": a.status, "error": a.error[:200]}
                                            for a in failed_outside[:50]],
                            fault_window_s=[round(window.start - self.started, 2), round(window.end - self.started, 2)],
                            logs=notable(self.log_lines))
        result.seconds = time.monotonic() - self.started
        return result

    def _wait_for_loads(self, loads: list[PacedLoad]) -> None:
        for load in loads:
            deadline = max(0.0, load.total / load.rate - (time.monotonic() - self.started)) + 60
            if not load.wait(deadline):
                self.failures.append("the load generator did not finish: requests hung for more than a minute")
                load.stop()

    def _judge(self, result: ScenarioResult, account: OrderAccount, never_published: list[str],
               accepted_ids: list[str], failed_outside: list, fault_may_fail_requests: bool,
               p99_limit_ms: float | None, problems: list[str], lag: dict[int, str]) -> None:
        """Every broken promise, as a failure a reader can act on."""
        if account.lost:
            self.failures.append(
                f"{len(account.lost)} accepted orders have no delivery {self.settings.delivery_wait:.0f} s after the "
                f"load ended ({len(never_published)} of them never reached new_orders, the rest were published but "
                f"not consumed), e.g. {', '.join(account.lost[:EXAMPLES])}")
        if account.duplicates:
            self.failures.append(f"{account.duplicates} duplicates: {account.details['extra_deliveries']} extra "
                                 f"deliveries, {account.details['extra_orders_per_key']} extra orders under one "
                                 "Idempotency-Key")
        if account.accepted_not_stored:
            self.failures.append(f"{len(account.accepted_not_stored)} orders answered 201 are not in order-ms's "
                                 f"database, e.g. {', '.join(account.accepted_not_stored[:EXAMPLES])}")
        if account.sent != account.accepted:
            self.failures.append(f"{account.sent - account.accepted} orders never got a 201 although the client "
                                 "retried each with its Idempotency-Key for 30 s")
        if failed_outside:
            where = "outside the fault's window" if fault_may_fail_requests else "where the promise is zero failures"
            self.failures.append(f"{len(failed_outside)} requests failed {where}: {failure_summary(failed_outside)}")
        if p99_limit_ms is not None and (result.post_p99_fault_ms or 0) > p99_limit_ms:
            over = (f"POST p99 during the fault was {result.post_p99_fault_ms:.0f} ms,"
                    f" over the {p99_limit_ms:.0f} ms promised")
            if self.settings.latency_limits:
                self.failures.append(over)
            else:
                self.notes.append(f"{over} (not judged in this run: CHAOS_LATENCY_LIMITS=0)")
        dead_lettered = [order_id for order_id in accepted_ids if self.run.dead_letters.counts[order_id.encode()]]
        if dead_lettered:
            self.failures.append(
                f"{len(dead_lettered)} real orders were dead-lettered, e.g. {dead_lettered[:EXAMPLES]}"
            )
        if problems:
            self.failures.append(f"the stack was not whole {RECOVERY_TIMEOUT:.0f} s after the scenario (it would need "
                                 f"a manual restart): {'; '.join(problems)}")
        if lag:
            self.failures.append(f"the consumers had not committed every record of new_orders {RECOVERY_TIMEOUT:.0f} s "
                                 f"after the scenario (by partition: {lag}): a record wedges them (see their log)")

    def _describe(self, result: ScenarioResult, account: OrderAccount, accepted_ids: list[str], latency: dict,
                  waited_from: float, failed_inside: list) -> None:
        """What a reader needs besides the verdict: timings, latency, and what the fault did on the way."""
        if result.restarts_other:
            self.notes.append(f"restarts nobody asked for (the supervisor healed them): {result.restarts_other}")
        if account.delivered_after is not None:
            self.notes.append(
                f"every accepted order was delivered "
                f"{waited_from - self.fault_window.end + account.delivered_after:.1f} s after the fault ended"
            )
        self.notes.append(f"POST p50/p99 {describe(latency)}; load average {self.load_average:.1f} at the start, "
                          f"{os.getloadavg()[0]:.1f} at the end ({os.cpu_count()} cores)")
        republished = sum(1 for order_id in accepted_ids if self.run.new_orders.counts[order_id.encode()] > 1)
        if republished:
            self.notes.append(f"{republished} orders' events were published more than once (at-least-once relay); "
                              "each still made one delivery")
        if account.unannounced:
            self.notes.append(f"{account.unannounced} orders were stored without their 201 reaching the client")
        if failed_inside:
            self.notes.append(f"during the fault {len(failed_inside)} requests failed as expected: "
                              f"{failure_summary(failed_inside)}")
