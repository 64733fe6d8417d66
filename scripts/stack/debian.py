"""Finding a server binary, installing its Debian package first when we are root on Debian."""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from scripts.stack.waiting import log


def is_debian_root() -> bool:
    return os.geteuid() == 0 and Path("/etc/debian_version").exists() and shutil.which("apt-get") is not None


def find_binary(binary: str) -> str | None:
    return shutil.which(binary) or next(
        (p for p in (f"/usr/sbin/{binary}", f"/usr/bin/{binary}") if Path(p).exists()), None)


def ensure_debian_package(binary: str, package: str) -> str:
    """The path of `binary`, installing its Debian package when we are root on Debian."""
    found = find_binary(binary)
    if found:
        return found
    if not is_debian_root():
        raise SystemExit(f"{binary} is not installed. Run as root: apt-get install -y {package}")
    log(f"{binary} is missing: apt-get install -y {package}")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True,
                   env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    found = find_binary(binary)
    if not found:
        raise SystemExit(f"apt-get installed {package} but {binary} is still missing")
    return found
