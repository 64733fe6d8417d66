"""Applies a service's numbered SQL files (`sql/<service>/`) to its database in order, each exactly once.

Each service's `migrate` module calls `main` with its folder; the same command runs locally, in CI and as
the first init container of its pods, as the database's schema owner. `--wait` lets it start before the
database is up."""
from __future__ import annotations

import argparse
import logging
import os
import re
import time
from pathlib import Path

from services.platform.db import CONNECTION_ERRORS, DatabaseUnavailable, connect
from services.platform.logs import configure_logging
from services.platform.settings import Settings

log = logging.getLogger("migrate")
# A migration may rewrite a large table: its statements get an hour, not the services' DB_READ_TIMEOUT.
MIGRATION_READ_TIMEOUT = 3600
FILE_PATTERN = re.compile(r"^([0-9]{4})_[a-z0-9_]+\.sql$")
CREATE_TABLE = re.compile(r"^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?`?(\w+)`?\s*\((.*)\)[^)]*$",
                          re.IGNORECASE | re.DOTALL)
# Lines of a CREATE TABLE body that are not columns.
NOT_A_COLUMN = re.compile(r"^(PRIMARY|UNIQUE|KEY|INDEX|CONSTRAINT|FOREIGN|CHECK|FULLTEXT|SPATIAL)\b", re.IGNORECASE)


class SchemaConflict(RuntimeError):
    """The database already holds a table of a migration's name in another shape; nothing was changed."""


def created_tables(statements: list[str]) -> dict[str, list[str]]:
    """{table: [column, ...]} of every CREATE TABLE among `statements` (one column or key per line)."""
    tables = {}
    for statement in statements:
        match = CREATE_TABLE.match(statement)
        if match:
            lines = [line.strip().rstrip(",") for line in match.group(2).splitlines()]
            tables[match.group(1)] = [line.split()[0].strip("`") for line in lines
                                      if line and not line.startswith("--") and not NOT_A_COLUMN.match(line)]
    return tables


def refuse_other_shapes(cursor, database: str, path: Path, statements: list[str]) -> None:
    """A table the file creates that already exists with other columns (say, the lecture code's `mydb`) would be
    kept by IF NOT EXISTS and fail at the first query: refuse before anything is applied or recorded."""
    for table, columns in created_tables(statements).items():
        cursor.execute("SELECT column_name FROM information_schema.columns WHERE table_schema = ? AND table_name = ?"
                       " ORDER BY ordinal_position", (database, table))
        existing = [row[0] for row in cursor.fetchall()]
        if existing and set(existing) != set(columns):
            raise SchemaConflict(
                f"database {database!r} already has a table {table!r} with the columns ({', '.join(existing)}), "
                f"not those {path.name} creates ({', '.join(columns)}); nothing was applied. "
                f"Hint: this is not a database of this service (an older or the lecture code's schema?): set DB_NAME "
                f"to a new database, or move the old table away first (RENAME TABLE `{table}` TO `{table}_old`).")


def migration_files(directory: Path) -> list[Path]:
    files = sorted(p for p in directory.iterdir() if FILE_PATTERN.match(p.name))
    numbers = [p.name[:4] for p in files]
    if len(numbers) != len(set(numbers)):
        raise SystemExit(f"two migrations share a number in {directory}: {numbers}")
    return files


def split_statements(sql: str) -> list[str]:
    """Statements end with ';' at the end of a line; our migrations hold no procedures."""
    statements, current = [], []
    for line in sql.splitlines():
        if line.strip().startswith("--"):
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            statements.append("\n".join(current).strip().rstrip(";"))
            current = []
    if "".join(current).strip():
        statements.append("\n".join(current).strip())
    return [s for s in statements if s]


def wait_for_server(settings: Settings, wait_seconds: float):
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            return connect(settings, database=None, read_timeout=MIGRATION_READ_TIMEOUT)
        except DatabaseUnavailable as exc:
            if time.monotonic() >= deadline:
                raise
            log.info("waiting for the database: %s", exc)
            time.sleep(2)


def migrate(settings: Settings, directory: Path, wait_seconds: float = 0) -> list[str]:
    """Apply pending migrations; returns the names applied now."""
    conn = wait_for_server(settings, wait_seconds)
    applied_now = []
    try:
        cursor = conn.cursor()
        cursor.execute(
            f"CREATE DATABASE IF NOT EXISTS `{settings.db_name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
        )
        cursor.execute(f"USE `{settings.db_name}`")
        # Several replicas may start at once: one applies, the others wait and then find nothing to do.
        lock_name = f"migrations:{settings.db_name}"[:64]
        cursor.execute("SELECT GET_LOCK(?, 120)", (lock_name,))
        if cursor.fetchone()[0] != 1:
            raise SystemExit("could not take the migration lock within 120 s")
        cursor.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version VARCHAR(255) PRIMARY KEY,"
            " applied_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6))"
        )
        cursor.execute("SELECT version FROM schema_migrations")
        done = {row[0] for row in cursor.fetchall()}
        for path in migration_files(directory):
            if path.name in done:
                continue
            log.info("applying %s", path.name)
            # DDL commits implicitly in MariaDB, so each file is written to be re-runnable
            # (IF NOT EXISTS) should a run die half-way.
            statements = split_statements(path.read_text())
            refuse_other_shapes(cursor, settings.db_name, path, statements)
            for statement in statements:
                cursor.execute(statement)
            cursor.execute("INSERT INTO schema_migrations (version) VALUES (?)", (path.name,))
            conn.commit()
            applied_now.append(path.name)
        cursor.execute("SELECT RELEASE_LOCK(?)", (lock_name,))
        return applied_now
    finally:
        conn.close()


def main(service: str, settings: Settings, default_dir: Path, argv: list[str] | None = None) -> int:
    """The body of each service's `python -m services.<service>.migrate [--wait S] [--dir D]`."""
    parser = argparse.ArgumentParser(description=f"Apply {service}'s migrations to its database ({settings.db_name}).")
    parser.add_argument("--wait", type=float, default=0, help="seconds to wait for the database to answer")
    parser.add_argument("--dir", type=Path, default=Path(os.environ.get("MIGRATIONS_DIR") or default_dir),
                        help="folder of numbered .sql files (default: MIGRATIONS_DIR, else the service's sql/ folder)")
    args = parser.parse_args(argv)
    configure_logging(f"{service}-migrate", settings.log_level)
    try:
        applied = migrate(settings, args.dir, args.wait)
    except (DatabaseUnavailable, *CONNECTION_ERRORS) as exc:
        log.error("migration failed: %s", exc)
        return 1
    except SchemaConflict as exc:
        log.error("migration refused: %s", exc)
        return 1
    log.info("migrations up to date", extra={"applied": applied})
    return 0

