"""Every process of a running stack, grouped by component, with its CPU time and peak memory read from /proc."""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from scripts.stack.state import StackState

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    parent: int
    name: str  # the kernel's short command name
    cpu_seconds: float  # user + system time of the process itself (not of its children)


def read_process(pid: int) -> ProcessInfo | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name is in parentheses and may itself hold spaces or parentheses.
    name = raw[raw.index("(") + 1:raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2:].split()
    # After the name: state, ppid, ... utime is field 14 and stime field 15 of the whole line (man 5 proc).
    return ProcessInfo(pid, int(fields[1]), name, (int(fields[11]) + int(fields[12])) / CLOCK_TICKS)


def all_processes() -> dict[int, ProcessInfo]:
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (info := read_process(int(entry))) is not None:
            found[info.pid] = info
    return found


def listening_pid(port: int) -> int | None:
    """The process that listens on TCP `port` of this machine (e.g. the system's MariaDB), or None."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # state 0A is LISTEN; the local address ends in the port in hex.
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                target = os.readlink(f"/proc/{entry}/fd/{fd}")
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return int(entry)
        except OSError:
            continue
    return None


def stack_components(state: StackState) -> dict[str, int]:
    """Each component of the stack and the pid at its root: the supervisor itself (it pumps every process's
    log), its processes (gunicorn's workers below their master), and the database server when it is not one
    of them (the system's MariaDB, found by the port the stack uses)."""
    components = {"supervisor": state.supervisor_pid}
    components.update({name: process.pid for name, process in state.processes.items()})
    if "mariadb" not in components:
        pid = listening_pid(int(state.env["DB_PORT"]))
        if pid is not None:
            components["mariadb"] = pid
    return components


def _component_of(pid: int, table: dict[int, ProcessInfo], roots: dict[int, str]) -> str | None:
    """The component whose root is the nearest one above `pid` (itself included), so that every process counts
    once: a gunicorn worker for its service, the supervisor only for itself."""
    while pid in table:
        if pid in roots:
            return roots[pid]
        pid = table[pid].parent
    return None


def _processes_by_component(components: dict[str, int]) -> dict[str, list[ProcessInfo]]:
    table = all_processes()
    roots = {pid: name for name, pid in components.items()}
    grouped: dict[str, list[ProcessInfo]] = {name: [] for name in components}
    for info in table.values():
        name = _component_of(info.pid, table, roots)
        if name is not None:
            grouped[name].append(info)
    return grouped


class CpuMeter:
    """CPU seconds each component spent between `start()` and `stop()`; a process that started in between
    counts from zero."""

    def __init__(self, components: dict[str, int]):
        self.components = components
        self._before: dict[int, float] = {}

    def start(self) -> None:
        self._before = {info.pid: info.cpu_seconds
                        for infos in _processes_by_component(self.components).values() for info in infos}

    def stop(self) -> dict[str, float]:
        return {name: sum(info.cpu_seconds - self._before.get(info.pid, 0.0) for info in infos)
                for name, infos in _processes_by_component(self.components).items()}


def peak_memory_mib(components: dict[str, int]) -> dict[str, float]:
    """The largest peak resident set (VmHWM) of any one process of each component, in MiB."""
    peaks = {}
    for name, infos in _processes_by_component(components).items():
        peak_kib = 0
        for info in infos:
            try:
                status = Path(f"/proc/{info.pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    peak_kib = max(peak_kib, int(line.split()[1]))
        peaks[name] = peak_kib / 1024
    return peaks
