"""Migrations apply once and in order; the local stack starts a private MariaDB where none answers."""
import os
import subprocess
import sys
import uuid

import mariadb

from tests.support.stack import ROOT


def run_migrate(env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "services.common.migrate"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **env}, timeout=120)


def test_migrations_create_the_database_and_apply_each_file_once(stack):
    db_name = f"coffee_migrate_{uuid.uuid4().hex[:8]}"
    env = {**stack["env"], "DB_NAME": db_name}
    try:
        first = run_migrate(env)
        assert first.returncode == 0, first.stdout + first.stderr
        files = sorted(p.name for p in (ROOT / "sql").glob("[0-9][0-9][0-9][0-9]_*.sql"))
        conn = mariadb.connect(host=env["DB_HOST"], port=int(env["DB_PORT"]), user=env["DB_USER"],
                               password=env["DB_PASSWORD"], database=db_name)
        cursor = conn.cursor()
        cursor.execute("SELECT version FROM schema_migrations ORDER BY version")
        assert [row[0] for row in cursor.fetchall()] == files
        second = run_migrate(env)
        assert second.returncode == 0
        assert '"applied": []' in second.stdout
        cursor.execute("SELECT COUNT(*) FROM schema_migrations")
        assert cursor.fetchone()[0] == len(files)
        conn.close()
    finally:
        conn = mariadb.connect(host=env["DB_HOST"], port=int(env["DB_PORT"]), user=env["DB_USER"], password=env["DB_PASSWORD"])
        conn.cursor().execute(f"DROP DATABASE IF EXISTS {db_name}")
        conn.close()


def test_migrate_fails_cleanly_when_the_database_is_unreachable(stack):
    result = run_migrate({**stack["env"], "DB_PORT": "1", "DB_CONNECT_TIMEOUT": "1"})
    assert result.returncode == 1
    assert "migration failed" in result.stdout and "Traceback" not in result.stdout + result.stderr


def test_stack_starts_a_private_mariadb_when_none_answers(monkeypatch):
    """What `make run` does on a machine without MariaDB: its own mariadbd under .run/."""
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    import stack as local_stack

    monkeypatch.setenv("STACK_PORT_OFFSET", "-1000")  # private server on 2307
    monkeypatch.delenv("DB_HOST", raising=False)
    monkeypatch.setenv("DB_PORT", "1")  # the "usual" server does not answer
    layout = local_stack.layout_for("privatedb")
    layout.logs.mkdir(parents=True, exist_ok=True)
    runner = local_stack.Stack(layout, echo=False)
    try:
        runner.start_database()
        assert runner.env["DB_PORT"] == "2307"
        conn = mariadb.connect(host="127.0.0.1", port=2307, user="root", password="")
        cursor = conn.cursor()
        cursor.execute("SELECT @@datadir")
        assert ".run/mariadb/privatedb" in cursor.fetchone()[0]
        conn.close()
    finally:
        runner.sup.stop_all()
