"""The stack's environment overrides: what a process started after they were written runs with."""
from __future__ import annotations

import sys

from scripts.stack.env_overrides import clear_overrides, read_overrides, with_overrides, write_overrides
from scripts.stack.supervisor import ProcessSpec, Supervisor


def test_overrides_set_replace_and_remove_variables():
    env = {"KEEP": "1", "REPLACE": "old", "REMOVE": "x"}
    assert with_overrides(env, {"REPLACE": "new", "REMOVE": None, "ADD": "2", "ABSENT": None}) == {
        "KEEP": "1", "REPLACE": "new", "ADD": "2"}


def test_no_file_means_no_overrides(tmp_path):
    path = tmp_path / "env-overrides.json"
    assert read_overrides(path) == {}
    write_overrides(path, {"A": "1", "B": None})
    assert read_overrides(path) == {"A": "1", "B": None}
    clear_overrides(path)
    assert read_overrides(path) == {}


def test_a_process_started_after_the_overrides_were_written_runs_with_them(tmp_path, monkeypatch):
    monkeypatch.setenv("STACK_TEST_REMOVED", "present")
    path = tmp_path / "env-overrides.json"
    supervisor = Supervisor(tmp_path, echo=False, env_overrides=path)

    def shows_its_environment(name: str) -> ProcessSpec:
        # The process writes a file of its own (its log is written by a thread of the supervisor's, later).
        code = ("import os, sys; open(sys.argv[1], 'w').write("
                "f\"{os.environ.get('STACK_TEST_ADDED')} {os.environ.get('STACK_TEST_REMOVED')}\")")
        return ProcessSpec(name, [sys.executable, "-c", code, str(tmp_path / f"{name}.env")])

    supervisor.start(shows_its_environment("before")).wait(timeout=30)
    write_overrides(path, {"STACK_TEST_ADDED": "on", "STACK_TEST_REMOVED": None})
    supervisor.start(shows_its_environment("after")).wait(timeout=30)
    supervisor.stop_all()
    assert (tmp_path / "before.env").read_text() == "None present"
    assert (tmp_path / "after.env").read_text() == "on None"
