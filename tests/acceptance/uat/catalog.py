"""The testcase catalog (catalog.yaml): loading it, checking its shape, and matching it to the tests."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from tests.acceptance.uat.texts import literal_part

CATALOG_PATH = Path(__file__).resolve().parents[1] / "catalog.yaml"
CASE_ID = re.compile(r"^CASE-\d{4}$")
KINDS = ("normal", "abnormal")
REQUIRED_KEYS = ("id", "title", "feature", "kind", "steps", "expected")
# What the user of an abnormal case is told. `error` and `hint` are required; `error_title` is the
# problem's title and is there whenever the answer is a problem+json (not for a warning of the UI alone).
ABNORMAL_KEYS = ("error", "hint")
TOLD_KEYS = ("error_title", "error", "hint")
ALLOWED_KEYS = set(REQUIRED_KEYS) | set(TOLD_KEYS)
CASE_MARKER = "case"


class CatalogError(Exception):
    """The catalog file itself is wrong; the message lists every problem found."""


@dataclass(frozen=True)
class Case:
    """One catalogued testcase, as a tester would read it.

    `error_title`, `error` and `hint` hold the texts the user of an abnormal case may be told: each a
    tuple of variants (one, unless the case's steps produce several), with {placeholders}; empty for a
    normal case."""

    id: str
    title: str
    feature: str
    kind: str
    steps: tuple[str, ...]
    expected: str
    error_title: tuple[str, ...] = ()
    error: tuple[str, ...] = ()
    hint: tuple[str, ...] = ()

    def told(self, key: str) -> tuple[str, ...]:
        """The variants catalogued under one of TOLD_KEYS."""
        return getattr(self, key)


def load_catalog(path: Path = CATALOG_PATH) -> dict[str, Case]:
    """Every case by id, in file order; CatalogError if an entry is incomplete or a feature lacks a kind."""
    try:
        entries = (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("cases") or []
    except (OSError, yaml.YAMLError) as exc:
        raise CatalogError(f"the acceptance catalog {path} cannot be read: {exc}") from None
    problems: list[str] = []
    cases: dict[str, Case] = {}
    for index, entry in enumerate(entries):
        where = f"{path.name} entry {index + 1} ({entry.get('id', 'no id') if isinstance(entry, dict) else entry!r})"
        entry_problems = _entry_problems(entry)
        if entry_problems:
            problems.extend(f"{where}: {problem}" for problem in entry_problems)
            continue
        if entry["id"] in cases:
            problems.append(f"{where}: the id is used twice")
            continue
        cases[entry["id"]] = Case(
            id=entry["id"], title=entry["title"].strip(), feature=entry["feature"].strip(), kind=entry["kind"],
            steps=tuple(step.strip() for step in entry["steps"]), expected=entry["expected"].strip(),
            **{key: _variants(entry.get(key)) for key in TOLD_KEYS},
        )
    kinds_by_feature: dict[str, set[str]] = {}
    for case in cases.values():
        kinds_by_feature.setdefault(case.feature, set()).add(case.kind)
    for feature, kinds in kinds_by_feature.items():
        for kind in KINDS:
            if kind not in kinds:
                problems.append(f"feature {feature!r} has no {kind} case")
    if problems:
        raise CatalogError("the acceptance catalog is not valid:\n  " + "\n  ".join(problems))
    return cases


def _entry_problems(entry) -> list[str]:
    if not isinstance(entry, dict):
        return ["is not a mapping"]
    problems = [f"unknown key {key!r}" for key in entry if key not in ALLOWED_KEYS]
    for key in REQUIRED_KEYS:
        if key == "steps":
            steps = entry.get("steps")
            if not isinstance(steps, list) or not steps or not all(isinstance(s, str) and s.strip() for s in steps):
                problems.append("steps must be a non-empty list of sentences")
        elif not isinstance(entry.get(key), str) or not entry[key].strip():
            problems.append(f"{key} is missing or empty")
    if isinstance(entry.get("id"), str) and not CASE_ID.match(entry["id"]):
        problems.append("id must look like CASE-0001")
    if entry.get("kind") not in KINDS:
        problems.append(f"kind must be one of {', '.join(KINDS)}")
    if entry.get("kind") == "abnormal":
        problems.extend(f"an abnormal case needs {key} (what the user is told)"
                        for key in ABNORMAL_KEYS if key not in entry)
        problems.extend(problem for key in TOLD_KEYS if key in entry for problem in _told_problems(key, entry[key]))
    elif entry.get("kind") == "normal":
        # A normal case tells the user no error, so such a text would be checked by nothing.
        problems.extend(f"a normal case has no {key}" for key in TOLD_KEYS if key in entry)
    return problems


def _told_problems(key: str, value) -> list[str]:
    """What is wrong with one told text: a sentence, or a non-empty list of them, each saying something."""
    texts = value if isinstance(value, list) else [value]
    if not texts or not all(isinstance(text, str) and text.strip() for text in texts):
        return [f"{key} must be a text or a non-empty list of texts"]
    # A text of placeholders alone would match anything the service says.
    return [f"{key} {text.strip()!r} has nothing but placeholders" for text in texts if not literal_part(text).strip()]


def _variants(value) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(text.strip() for text in (value if isinstance(value, list) else [value]))


def case_id_of(item) -> tuple[str | None, str | None]:
    """(the case id a test names, or a problem with its marker)."""
    markers = list(item.iter_markers(CASE_MARKER))
    if not markers:
        return None, f"{item.nodeid} carries no @pytest.mark.case(\"CASE-NNNN\")"
    if len(markers) > 1:
        return None, f"{item.nodeid} names more than one case"
    args = markers[0].args
    if len(args) != 1 or not isinstance(args[0], str) or not CASE_ID.match(args[0]):
        return None, f"{item.nodeid} has a case marker without one CASE-NNNN id: {args!r}"
    return args[0], None


def check_tests(cases: dict[str, Case], items: list, whole_suite: bool) -> list[str]:
    """What is wrong between tests and catalog; a missing test counts only when the whole suite was collected."""
    problems = []
    covered = set()
    for item in items:
        case_id, problem = case_id_of(item)
        if problem:
            problems.append(problem)
        elif case_id not in cases:
            problems.append(f"{item.nodeid} names {case_id}, which is not in the catalog")
        else:
            covered.add(case_id)
    if whole_suite:
        problems.extend(
            f"{case_id} ({cases[case_id].title}) has no test" for case_id in cases if case_id not in covered
        )
    return problems
