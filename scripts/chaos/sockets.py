"""How many bytes a frozen server has not read yet from one client process, from /proc/net/tcp: proof that
the client's request reached the server, e.g. that a relay sent its batch and now waits for the broker's ack."""
from __future__ import annotations

import os
from pathlib import Path

TCP_TABLES = ("/proc/net/tcp", "/proc/net/tcp6")


def _rows() -> list[dict]:
    rows = []
    for table in TCP_TABLES:
        if not Path(table).exists():
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            # sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
            fields = line.split()
            rows.append(
                {
                    "local_port": int(fields[1].split(":")[1], 16),
                    "remote_port": int(fields[2].split(":")[1], 16),
                    "rx_queue": int(fields[4].split(":")[1], 16),
                    "inode": fields[9],
                }
            )
    return rows


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def unread_bytes(server_port: int, client_pid: int) -> int:
    """Bytes waiting in the server's receive queues of every connection `client_pid` has to `server_port`."""
    rows = _rows()
    client_inodes = _socket_inodes(client_pid)
    client_ports = {
        row["local_port"] for row in rows if row["inode"] in client_inodes and row["remote_port"] == server_port
    }
    return sum(
        row["rx_queue"] for row in rows if row["local_port"] == server_port and row["remote_port"] in client_ports
    )
