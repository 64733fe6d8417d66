"""The human-readable run report: one row per test with its case, result, duration and what broke it.

For a failed abnormal case it also shows what the user was told next to what the catalog says."""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tests.acceptance.uat.catalog import TOLD_KEYS, Case
from tests.acceptance.uat.checks import Comparison
from tests.acceptance.uat.client import Exchange

RESULT_ORDER = ("failed", "error", "passed", "skipped", "not run")


@dataclass
class Outcome:
    """How one test ended; for a test that did not pass, its last HTTP `exchange` and its `comparisons` of
    served texts with the catalog."""

    nodeid: str
    case_id: str
    result: str = "passed"
    duration: float = 0.0
    failure: str = ""
    exchange: Exchange | None = None
    comparisons: list[Comparison] = field(default_factory=list)


@dataclass
class Run:
    """Everything the report shows about one run of the suite."""

    base_url: str
    cases: dict[str, Case]
    outcomes: list[Outcome]
    problems: list[str] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)
    # What the run met of the deployment: its limits as observed (or assumed, when no case reached them).
    settings: dict[str, str] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        counts = {result: 0 for result in RESULT_ORDER}
        for outcome in self.outcomes:
            counts[outcome.result] = counts.get(outcome.result, 0) + 1
        counts["not run"] = len(self.not_run)
        return counts

    def rows(self) -> list[tuple[Case, Outcome | None]]:
        """Run tests by case id, then the catalogued cases that no test of this run covered."""
        rows: list[tuple[Case, Outcome | None]] = [
            (self.cases[o.case_id], o) for o in sorted(self.outcomes, key=lambda o: (o.case_id, o.nodeid))]
        rows.extend((self.cases[case_id], None) for case_id in self.not_run)
        return rows


def exchange_text(exchange: Exchange | None) -> str:
    if exchange is None:
        return ""
    status = exchange.status if exchange.status is not None else "no answer"
    return f"{exchange.method} {exchange.url} -> {status} {exchange.content_type}\n{exchange.body}".strip()


def told_lines(case: Case, outcome: Outcome) -> list[str]:
    """Expected (catalog) against served texts of a failed abnormal case: the ones that did not match, or,
    when the test failed before comparing any, the catalog's texts."""
    if case.kind != "abnormal" or outcome.result not in ("failed", "error"):
        return []
    missed = [comparison for comparison in outcome.comparisons if not comparison.matched]
    if missed:
        return [line for comparison in missed for line in (
            f"{comparison.key} expected: {_variants_text(comparison.expected)}",
            f"{comparison.key} served: {'(none)' if comparison.served is None else repr(comparison.served)}")]
    if outcome.comparisons:
        return []
    return [f"{key} expected: {_variants_text(case.told(key))} (not compared)" for key in TOLD_KEYS if case.told(key)]


def _variants_text(variants: tuple[str, ...]) -> str:
    return " | ".join(repr(text) for text in variants) or "(nothing catalogued)"


def write_markdown(run: Run, path: Path) -> None:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\r", "").replace("\n", "<br>")

    counts = run.counts()
    lines = [
        "# Acceptance report",
        "",
        f"Run at {_now()} against `{run.base_url}`: "
        + ", ".join(f"{counts[r]} {r}" for r in RESULT_ORDER if counts.get(r)) + ".",
        "",
    ]
    if run.problems:
        lines += ["## Catalog check failed", ""] + [f"- {cell(p)}" for p in run.problems] + [""]
    if run.settings:
        lines += ["## Settings this run met", ""] + [f"- {cell(name)}: {cell(value)}"
                                                     for name, value in run.settings.items()] + [""]
    lines += [
        "| case | title | feature | kind | result | duration | test | failure and the response that broke it |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for case, outcome in run.rows():
        if outcome is None:
            lines.append(f"| {case.id} | {cell(case.title)} | {cell(case.feature)} | {case.kind} | not run | | | |")
            continue
        parts = (outcome.failure, *told_lines(case, outcome), exchange_text(outcome.exchange))
        broke = "\n".join(part for part in parts if part)
        lines.append(
            f"| {case.id} | {cell(case.title)} | {cell(case.feature)} | {case.kind} | **{outcome.result}** | "
            f"{outcome.duration:.2f} s | `{cell(outcome.nodeid)}` | {cell(broke)} |")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_html(run: Run, path: Path) -> None:
    counts = run.counts()
    e = html.escape
    rows = []
    for case, outcome in run.rows():
        result = outcome.result if outcome else "not run"
        failure = ""
        if outcome is not None and (outcome.failure or outcome.exchange):
            told = told_lines(case, outcome)
            failure = (f"<div>{e(outcome.failure)}</div>" if outcome.failure else "") + (
                f"<ul class=\"told\">{''.join(f'<li>{e(line)}</li>' for line in told)}</ul>" if told else "") + (
                f"<pre>{e(exchange_text(outcome.exchange))}</pre>" if outcome.exchange else "")
        rows.append(
            f"<tr class=\"{e(result.replace(' ', '-'))}\"><td>{e(case.id)}</td><td>{e(case.title)}</td>"
            f"<td>{e(case.feature)}</td><td>{e(case.kind)}</td><td>{e(result)}</td>"
            f"<td>{f'{outcome.duration:.2f} s' if outcome else ''}</td>"
            f"<td><code>{e(outcome.nodeid) if outcome else ''}</code></td><td>{failure}</td></tr>")
    problems = ""
    if run.problems:
        problems = "<h2>Catalog check failed</h2><ul>" + "".join(f"<li>{e(p)}</li>" for p in run.problems) + "</ul>"
    if run.settings:
        problems += "<h2>Settings this run met</h2><ul>" + "".join(
            f"<li>{e(name)}: {e(value)}</li>" for name, value in run.settings.items()) + "</ul>"
    summary = ", ".join(f"{counts[r]} {r}" for r in RESULT_ORDER if counts.get(r))
    path.write_text(f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Acceptance report</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 1.5rem; }}
table {{ border-collapse: collapse; width: 100%; font-size: 0.9rem; }}
th, td {{ border: 1px solid #ccc; padding: 0.3rem 0.5rem; text-align: left; vertical-align: top; }}
th {{ background: #f3f3f3; }}
pre {{ white-space: pre-wrap; word-break: break-all; margin: 0.3rem 0 0; }}
ul.told {{ margin: 0.3rem 0 0; padding-left: 1.2rem; overflow-wrap: anywhere; }}
td code {{ overflow-wrap: anywhere; }}
td:nth-child(7) {{ min-width: 14rem; max-width: 20rem; }}
td:nth-child(8) {{ min-width: 28rem; }}
tr.passed td:nth-child(5) {{ color: #1a7f37; }}
tr.failed td:nth-child(5), tr.error td:nth-child(5) {{ color: #cf222e; font-weight: bold; }}
tr.not-run td:nth-child(5), tr.skipped td:nth-child(5) {{ color: #9a6700; }}
</style></head><body>
<h1>Acceptance report</h1>
<p>Run at {e(_now())} against <code>{e(run.base_url)}</code>: {e(summary)}.</p>
{problems}
<table><thead><tr><th>case</th><th>title</th><th>feature</th><th>kind</th><th>result</th><th>duration</th>
<th>test</th><th>failure and the response that broke it</th></tr></thead>
<tbody>
{chr(10).join(rows)}
</tbody></table></body></html>
""", encoding="utf-8")


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
