"""The run's report: one table (scenario, sent, accepted, failed requests, delivered, duplicates, lost, POST
p99 during the fault, restarts, result) with each scenario's fault, notes and failures under it, printed and
written to test-results/chaos/ as chaos.md and chaos.json."""
from __future__ import annotations

import dataclasses
import json
import os
import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from scripts.chaos.scenario import ScenarioResult
from scripts.chaos.settings import ROOT, ChaosSettings

COLUMNS = ["scenario", "sent", "accepted", "failed requests", "delivered", "duplicates", "lost",
           "POST p99 in fault (all)", "restarts (fault / other)", "result"]


@dataclass
class RunReport:
    settings: ChaosSettings
    results: list[ScenarioResult]
    started_wall: float
    seconds: float

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(result.passed for result in self.results)

    def environment(self) -> dict:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
        return {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(self.started_wall)),
                "host": platform.node(), "cores": os.cpu_count(), "python": platform.python_version(),
                "commit": commit or "unknown", "scale": self.settings.scale, "seconds": round(self.seconds)}

    def rows(self) -> list[list[str]]:
        return [[r.name, str(r.sent), str(r.accepted), str(r.failed_requests), str(r.delivered), str(r.duplicates),
                 str(r.lost), f"{_ms(r.post_p99_fault_ms)} ({_ms(r.post_p99_ms)})",
                 f"{r.restarts_by_fault} / {sum(r.restarts_other.values())}",
                 f"{'pass' if r.passed else 'FAIL'} ({r.seconds:.0f} s)"] for r in self.results]

    def table(self) -> str:
        lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "|".join(" --- " for _ in COLUMNS) + "|"]
        return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in self.rows()])

    def markdown(self) -> str:
        env = self.environment()
        parts = [
            "# Chaos run\n",
            f"`make chaos` (CHAOS_SCALE={env['scale']}) on {env['started']}, {env['host']} ({env['cores']} cores, "
            f"Python {env['python']}), commit {env['commit']}; {env['seconds']} s in all. One stack for every "
            "scenario: private MariaDB, Apache Kafka (one KRaft node, SCRAM and ACLs), two instances of order-ms and "
            "of delivery-ms behind nginx, "
            "two consumers, one relay per service. Orders go through the ingress with an Idempotency-Key; "
            "`failed requests` counts every HTTP attempt without a 2xx, retries included.\n",
            self.table(),
            f"\n**{'Every scenario kept the promise.' if self.passed else 'FAILED: see below.'}**\n",
        ]
        for result in self.results:
            parts.append(f"## {result.name}: {'pass' if result.passed else 'FAIL'}\n")
            parts.append(f"- fault: {result.fault}")
            parts += [f"- {note}" for note in result.notes]
            parts += [f"- **failure**: {failure}" for failure in result.failures]
            if not result.passed or result.restarts_other:
                for process, lines in result.details.get("logs", {}).items():
                    parts.append(f"- log of {process}: " + "; ".join(f"`{line}`" for line in lines[:5]))
            parts.append("")
        return "\n".join(parts)

    def as_json(self) -> dict:
        return {"environment": self.environment(), "passed": self.passed,
                "scenarios": [{**dataclasses.asdict(r), "passed": r.passed} for r in self.results]}

    def write(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "chaos.md").write_text(self.markdown())
        (directory / "chaos.json").write_text(json.dumps(self.as_json(), indent=2, default=str))


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"
