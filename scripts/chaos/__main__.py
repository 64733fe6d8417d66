"""`python -m scripts.chaos` (`make chaos`): starts its own stack (profile `chaos`), plays every fault scenario
against it with bounded counts and times, prints one table and writes test-results/chaos/chaos.{md,json}.

Exits non-zero if any scenario lost an accepted order, duplicated one, failed a request where it promises none,
broke its latency promise, or left the stack needing a manual restart. CHAOS_SCALE (default 1) shrinks the run
(`make test` uses a small one); CHAOS_PROFILE and CHAOS_PORT_OFFSET place its stack."""
from __future__ import annotations

import argparse
import random
import sys
import time

from scripts.chaos.report import RunReport
from scripts.chaos.scenario import Run, Scenario, crashed
from scripts.chaos.scenarios import SCENARIOS
from scripts.chaos.settings import load_settings
from scripts.chaos.stack import ChaosStack
from scripts.chaos.topics import TopicTally
from services.contracts import order_created

# The stack gets this long to be whole again between scenarios before the next one starts anyway.
BETWEEN_SCENARIOS_TIMEOUT = 60.0


def log(message: str) -> None:
    print(f"[chaos] {message}", flush=True)


def option_name(module) -> str:
    """consumer_kill -> consumer-kill: how --only names a scenario."""
    return module.__name__.rsplit(".", 1)[1].replace("_", "-")


def main(argv: list[str] | None = None) -> int:
    names = [option_name(module) for module in SCENARIOS]
    parser = argparse.ArgumentParser(prog="python -m scripts.chaos", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=names, metavar="SCENARIO",
                        help=f"run only this scenario (repeatable): {', '.join(names)}")
    parser.add_argument("--keep-stack", action="store_true", help="leave the chaos stack running afterwards")
    args = parser.parse_args(argv)
    chosen = [module for module in SCENARIOS if not args.only or option_name(module) in args.only]

    settings = load_settings()
    stack = ChaosStack(settings)
    started, started_wall = time.monotonic(), time.time()
    results = []
    log(f"starting the {settings.profile} stack (ports +{settings.port_offset}), scale {settings.scale}")
    stack.up()
    new_orders = dead_letters = None
    try:
        new_orders = TopicTally(stack.kafka_servers, order_created.TOPIC, stack.kafka_login)
        dead_letters = TopicTally(stack.kafka_servers, order_created.DEAD_LETTER_TOPIC, stack.kafka_login)
        run = Run(settings, stack, new_orders, dead_letters, random.Random(7))
        for module in chosen:
            problems = stack.wait_whole(BETWEEN_SCENARIOS_TIMEOUT)
            if problems:
                log(f"the stack is not whole before {module.NAME}: {problems}")
            log(f"{module.NAME}: running")
            scenario_started = time.monotonic()
            try:
                result = module.run(Scenario(run, module.NAME))
            except Exception as exc:  # noqa: BLE001 - any failure of a scenario's own code is reported as such
                result = crashed(module.NAME, scenario_started, exc)
            if problems:
                result.failures.append(f"the stack was not whole when the scenario began: {'; '.join(problems)}")
            results.append(result)
            log(f"{module.NAME}: {'pass' if result.passed else 'FAIL'} in {result.seconds:.0f} s "
                f"(sent {result.sent}, accepted {result.accepted}, delivered {result.delivered}, lost {result.lost}, "
                f"duplicates {result.duplicates}, failed requests {result.failed_requests})")
            for failure in result.failures:
                log(f"  failure: {failure}")
    finally:
        for tally in (new_orders, dead_letters):
            if tally is not None:
                tally.close()
        if args.keep_stack:
            log(
                f"the {settings.profile} stack keeps running: python -m scripts.stack down --profile {settings.profile}"
            )
        else:
            stack.down()
    report = RunReport(settings, results, started_wall, time.monotonic() - started)
    report.write(settings.results_dir)
    print()
    print(report.table())
    print()
    log(f"{'passed' if report.passed else 'FAILED'}; report in {settings.results_dir}/chaos.md and chaos.json")
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
