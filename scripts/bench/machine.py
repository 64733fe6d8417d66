"""The machine a run is measured on, and how busy it is: results on a shared machine mean little without both."""
from __future__ import annotations

import os
import platform
import time
from pathlib import Path

from scripts.stack.waiting import log


def load_average() -> float:
    """The 1-minute load average."""
    return float(Path("/proc/loadavg").read_text().split()[0])


def wait_for_quiet_machine(max_load: float, max_seconds: int) -> float:
    """Waits (at most `max_seconds`) until the 1-minute load average is below `max_load`; returns the last reading."""
    deadline = time.monotonic() + max_seconds
    load = load_average()
    if load >= max_load and max_seconds > 0:
        log(f"bench: load average {load:.2f}; waiting up to {max_seconds} s for it to fall below {max_load}")
    while load >= max_load and time.monotonic() < deadline:
        time.sleep(5)
        load = load_average()
    return load


def description() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.machine())
    memory_kib = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                          if line.startswith("MemTotal:")))
    return (f"{os.cpu_count()} cores ({cpu}), {memory_kib / 1024 / 1024:.0f} GiB, Linux {platform.release()},"
            f" {platform.python_implementation()} {platform.python_version()}")
