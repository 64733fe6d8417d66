"""What the stack's processes logged while a scenario ran: their log files are read from where they ended when
the scenario began, so every warning, error and crash traceback of the scenario is there and nothing else."""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

NOTABLE_LEVELS = {"WARNING", "ERROR", "CRITICAL"}
# A Python traceback's last line names the exception, e.g. "TypeError: object of type 'NoneType' has no len()".
EXCEPTION_LINE = re.compile(r"^[A-Za-z_.]*(Error|Exception|Exit|Interrupt)\b.*")


class LogMarks:
    """Where each log file of the stack ended at one moment."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.ends = {path.name: path.stat().st_size for path in logs.glob("*.log")}

    def lines_since(self) -> dict[str, list[str]]:
        """Every line each process logged since the mark, by process name."""
        lines = {}
        for path in sorted(self.logs.glob("*.log")):
            with open(path, "rb") as log_file:
                log_file.seek(self.ends.get(path.name, 0))
                text = log_file.read().decode("utf-8", "replace")
            if text:
                lines[path.stem] = text.splitlines()
        return lines


def entries(lines: list[str]) -> list[dict]:
    """JSON log lines as objects; other lines (a traceback, nginx's own messages) as {"message": line}."""
    parsed = []
    for line in lines:
        try:
            entry = json.loads(line)
        except ValueError:
            entry = None
        parsed.append(entry if isinstance(entry, dict) else {"message": line, "raw": True})
    return parsed


def notable(lines_by_process: dict[str, list[str]], limit: int = 8) -> dict[str, list[str]]:
    """Per process, its most frequent warnings, errors and exception lines, each with how often it came."""
    summary = {}
    for process, lines in lines_by_process.items():
        counted: Counter[str] = Counter()
        for entry in entries(lines):
            message = str(entry.get("message", ""))
            if entry.get("raw"):
                if EXCEPTION_LINE.match(message) or "[error]" in message or "[crit]" in message:
                    counted[_shorten(message)] += 1
            elif entry.get("level") in NOTABLE_LEVELS:
                error = entry.get("error") or entry.get("error_type") or ""
                counted[_shorten(f"{entry['level']} {message}" + (f" ({error})" if error else ""))] += 1
        if counted:
            summary[process] = [f"{count}x {text}" for text, count in counted.most_common(limit)]
    return summary


def _shorten(text: str) -> str:
    # Numbers (pids, offsets, ids, timings) vary between otherwise identical lines: counted as one.
    return re.sub(r"\d+(\.\d+)?", "N", text.strip())[:220]


def partition_assignments(lines_by_process: dict[str, list[str]], topic: str) -> list[tuple[str, str, list[int]]]:
    """Every (time, consumer, partitions of `topic`) a consumer logged as assigned, in time order: the rebalances."""
    assignments = []
    for process, lines in lines_by_process.items():
        if process.startswith("consumer"):
            for entry in entries(lines):
                if entry.get("message") == "partitions assigned":
                    assignments.append((entry.get("ts", ""), process, entry.get("partitions", {}).get(topic, [])))
    return sorted(assignments)
