"""The bench's tracing section: what each setting gives the stack's processes, how the "no SDK" setting hides the
packages, and how the report pairs and places its figures."""
from __future__ import annotations

import os
import subprocess
import sys

from scripts.bench.config import ROOT
from scripts.bench.load import WrkResult
from scripts.bench.report import TRACING_HEADING, replace_section
from scripts.bench.targets import median_range
from scripts.bench.tracing import NO_SDK, NO_SDK_PATH, OFF, OTEL_VARIABLES, SettingRun, TracingPrice, tracing_settings
from scripts.stack.env_overrides import with_overrides
from tests.unit.bench.sample import sample_measurements

RECEIVER = "http://127.0.0.1:5018"


def test_each_setting_sets_only_its_own_tracing_variables():
    stack_env = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://elsewhere:4318", "OTEL_TRACES_SAMPLER": "always_on",
                 "DB_HOST": "127.0.0.1"}
    settings = {s.name: with_overrides(stack_env, s.env) for s in tracing_settings(RECEIVER, sdk_installed=True)}
    assert list(settings) == [NO_SDK, OFF, "ratio 0.01", "ratio 1.0"]
    for name in (NO_SDK, OFF):
        assert not any(variable in settings[name] for variable in OTEL_VARIABLES)
        assert settings[name]["DB_HOST"] == "127.0.0.1"
    assert settings[NO_SDK]["PYTHONPATH"].split(os.pathsep)[0] == str(NO_SDK_PATH)
    assert str(NO_SDK_PATH) not in settings[OFF].get("PYTHONPATH", "")
    assert settings["ratio 0.01"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == RECEIVER
    assert settings["ratio 0.01"]["OTEL_TRACES_SAMPLER"] == "parentbased_traceidratio"
    assert (settings["ratio 0.01"]["OTEL_TRACES_SAMPLER_ARG"], settings["ratio 1.0"]["OTEL_TRACES_SAMPLER_ARG"]) == (
        "0.01", "1.0")


def test_without_the_sdk_only_the_two_untraced_settings_run():
    assert [s.name for s in tracing_settings(RECEIVER, sdk_installed=False)] == [NO_SDK, OFF]


def test_the_no_sdk_setting_makes_opentelemetry_unimportable_and_tracing_stay_off():
    probe = ("import os; os.environ['OTEL_EXPORTER_OTLP_ENDPOINT'] = 'http://127.0.0.1:9'\n"
             "from services.platform.tracing import configure_tracing\n"
             "print(configure_tracing('order-ms'))\n"
             "try:\n    import opentelemetry.sdk.trace\nexcept ModuleNotFoundError as e:\n    print(e.name)")
    no_sdk = next(s for s in tracing_settings(RECEIVER, sdk_installed=True) if s.name == NO_SDK)
    env = with_overrides(dict(os.environ), no_sdk.env)
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["False", "opentelemetry"]


def _run(setting: str, round_number: int, cpu: float, calls: float = 1000.0) -> SettingRun:
    return SettingRun(setting=setting, round=round_number, floor_rate=200.0, post=WrkResult(1000, 100.0, 1, 2, 0),
                      cpu_rate=500.0, cpu_ms_per_order={"order-ms": cpu, "mariadb": 1.0}, receiver_cpu_ms=0.0,
                      orders=10, spans=0, exports=0, calls_per_post=calls)


def test_ratios_are_paired_within_each_round():
    price = TracingPrice([NO_SDK, OFF], [_run(NO_SDK, 1, 1.0), _run(OFF, 1, 1.5), _run(NO_SDK, 2, 3.0),
                                         _run(OFF, 2, 3.0)], rounds=2, sdk_installed=True)
    assert price.paired(OFF, NO_SDK, lambda run: run.cpu_total) == [2.5 / 2.0, 1.0]
    assert median_range([1.25, 1.0]) == "1.125 (1.000 to 1.250)"
    assert median_range([1.25]) == "1.250"


def test_the_section_replaces_its_own_part_of_the_results_only():
    report = f"# Benchmark results\n\nmain\n\n{TRACING_HEADING}\n\nold figures\n\n## What was measured, and how\n\nx\n"
    replaced = replace_section(report, f"{TRACING_HEADING}\n\nnew figures\n")
    assert replaced == (f"# Benchmark results\n\nmain\n\n{TRACING_HEADING}\n\nnew figures\n\n"
                        "## What was measured, and how\n\nx\n")
    first = replace_section("# Benchmark results\n\n## What was measured, and how\n", f"{TRACING_HEADING}\n\nA\n")
    assert first == f"# Benchmark results\n\n{TRACING_HEADING}\n\nA\n\n## What was measured, and how\n"


def test_the_whole_report_carries_the_tracing_section_and_counts_its_misses(tmp_path):
    from scripts.bench.config import read_config
    from scripts.bench.report import render, render_tracing
    from scripts.bench.targets import check, tracing_checks

    m = sample_measurements()
    # Off makes 3 % more calls per POST than no SDK here: the tracing check misses, and the whole report says so.
    price = TracingPrice([NO_SDK, OFF], [_run(NO_SDK, 1, 1.0, calls=1000), _run(OFF, 1, 1.0, calls=1030)], rounds=1,
                         sdk_installed=False)
    config = read_config()
    traced = tracing_checks(price)
    section = render_tracing(config, price, traced)
    report = render(config, m, check(m), traced, "2 cores", (0.5, 0.7), "a stack", section)
    assert TRACING_HEADING in report and report.index(TRACING_HEADING) < report.index("## What was measured")
    missed = next(line for line in report.splitlines() if line.startswith("Missed:"))
    assert "tracing off (the SDK installed, no endpoint)" in missed
    assert f"{TRACING_HEADING}\n" in report and "make bench`).\n\n## What was measured" in report


def test_off_against_no_sdk_is_judged_on_the_call_count_not_on_the_noisy_timings():
    from scripts.bench.targets import tracing_checks

    noisy_but_same_code = TracingPrice([NO_SDK, OFF], [_run(NO_SDK, 1, 1.0, calls=1013), _run(OFF, 1, 1.3, calls=1013)],
                                       rounds=1, sdk_installed=True)
    assert all(check.met is not False for check in tracing_checks(noisy_but_same_code))
