"""Variables that every process of a running stack starts with on top of its own, from its next start on (as
`kubectl set env` changes a Deployment's pods when they are replaced): .run/<profile>/env-overrides.json, read by
the supervisor whenever it starts a process. A variable set to null is removed. The bench switches tracing on,
off and out this way between its measurements (scripts/bench/tracing.py) without restarting MariaDB or Kafka."""
from __future__ import annotations

import json
from pathlib import Path

from scripts.stack.layout import Layout


def overrides_path(layout: Layout) -> Path:
    return layout.run_dir / "env-overrides.json"


def read_overrides(path: Path) -> dict[str, str | None]:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}


def write_overrides(path: Path, overrides: dict[str, str | None]) -> None:
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(overrides, indent=2))
    partial.replace(path)


def clear_overrides(path: Path) -> None:
    """A new stack starts with none, whatever an earlier run left behind."""
    path.unlink(missing_ok=True)


def with_overrides(env: dict[str, str], overrides: dict[str, str | None]) -> dict[str, str]:
    merged = {**env, **{name: value for name, value in overrides.items() if value is not None}}
    return {name: value for name, value in merged.items() if overrides.get(name, "") is not None}
