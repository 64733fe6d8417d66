"""What an image holds, read from its Dockerfile: the repository files its final stage copies in."""
from __future__ import annotations

import ast
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Which Dockerfile builds which image repository of the chart's values.
DOCKERFILES = {"coffee-order": ROOT / "Dockerfile.order", "coffee-delivery": ROOT / "Dockerfile.delivery"}


def copied_paths(dockerfile: Path) -> list[Path]:
    """Repository paths the last stage copies from the build context (not from other stages)."""
    stages: list[list[Path]] = []
    for line in _instructions(dockerfile):
        words = shlex.split(line)
        keyword = words[0].upper()
        if keyword == "FROM":
            stages.append([])
        elif keyword == "COPY" and not any(w.startswith("--from") for w in words[1:]):
            sources = [w for w in words[1:-1] if not w.startswith("--")]
            stages[-1].extend(ROOT / source for source in sources)
    return stages[-1]


def _instructions(dockerfile: Path) -> list[str]:
    lines, current = [], ""
    for raw in dockerfile.read_text().splitlines():
        if raw.strip().startswith("#") or not raw.strip():
            continue
        current += raw.rstrip("\\").strip() + " "
        if not raw.rstrip().endswith("\\"):
            lines.append(current.strip())
            current = ""
    return lines


class ImageCode:
    """The Python code of one image, to check that a command's module is really in it."""

    def __init__(self, repository: str):
        self.dockerfile = DOCKERFILES[repository]
        self.roots = copied_paths(self.dockerfile)

    def contains(self, path: Path) -> bool:
        path = path.resolve()
        return path.exists() and any(path == root.resolve() or root.resolve() in path.parents for root in self.roots)

    def module_file(self, module: str, runnable: bool = False) -> Path | None:
        """The file `python -m module` (runnable) or `import module` would load from the image."""
        base = ROOT.joinpath(*module.split("."))
        candidates = (
            [base / "__main__.py"] if runnable and base.is_dir() else [base.with_suffix(".py"), base / "__init__.py"]
        )
        return next((c for c in candidates if self.contains(c)), None)

    def missing_imports(self, module_file: Path) -> list[str]:
        """`services.*` modules imported (transitively) from `module_file` that the image lacks."""
        missing, seen, todo = [], set(), [module_file]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            for name in _imported_services_modules(current):
                found = self.module_file(name)
                if found is None:
                    parent = self.module_file(name.rpartition(".")[0])  # `from package import name`
                    if parent is None:
                        missing.append(f"{name} (imported by {current.relative_to(ROOT)})")
                        continue
                    found = parent
                todo.append(found)
        return sorted(set(missing))


def _imported_services_modules(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names += [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
    return [n for n in names if n == "services" or n.startswith("services.")]
