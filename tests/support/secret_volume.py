"""A folder updated the way the kubelet updates a mounted Secret or ConfigMap (its AtomicWriter): each version in a
new hidden folder, the `..data` symlink swapped to it in one rename, each file a symlink through `..data`, the old
version removed. A reader of `<folder>/<file>` sees the old content or the new, never a mixture."""
from __future__ import annotations

import itertools
import os
import shutil
from pathlib import Path

_versions = itertools.count(1)


class SecretVolume:
    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def write(self, files: dict[str, bytes]) -> None:
        """The next version of the volume: exactly `files`."""
        data = self.folder / "..data"
        previous = os.readlink(data) if data.is_symlink() else None
        version = self.folder / f"..version_{os.getpid()}_{next(_versions)}"
        version.mkdir()
        for name, content in files.items():
            (version / name).write_bytes(content)
        swap = self.folder / "..data_tmp"
        swap.unlink(missing_ok=True)
        swap.symlink_to(version.name)
        os.rename(swap, data)
        for name in files:
            link = self.folder / name
            if not link.is_symlink():
                link.symlink_to(Path("..data") / name)
        if previous is not None:
            shutil.rmtree(self.folder / previous)

    def path(self, name: str) -> Path:
        return self.folder / name
