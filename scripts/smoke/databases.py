"""The MariaDB server the smoke uses and its two databases, made as an operator would make them."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from scripts.stack.layout import ROOT
from scripts.stack.state import StackState


def database_settings() -> dict[str, str]:
    """The MariaDB server to use and its administrator: the running stack's that STACK_STATE names (`make test`
    exports the test stack's), else DB_* from the environment."""
    state_file = os.environ.get("STACK_STATE")
    env = StackState.read(Path(state_file)).admin_env() if state_file and Path(state_file).exists() else os.environ
    return {"DB_HOST": env.get("DB_HOST", "127.0.0.1"), "DB_PORT": str(env.get("DB_PORT", "3306")),
            "DB_USER": env.get("DB_USER", "root"), "DB_PASSWORD": env.get("DB_PASSWORD", "")}


def provision_databases(db: dict[str, str], spec: list[dict]) -> None:
    """Drops the smoke's databases, then makes them and their users as an operator would."""
    import mariadb

    try:
        conn = mariadb.connect(host=db["DB_HOST"], port=int(db["DB_PORT"]), user=db["DB_USER"],
                               password=db["DB_PASSWORD"], connect_timeout=5)
    except mariadb.Error as exc:
        raise SystemExit(f"MariaDB at {db['DB_HOST']}:{db['DB_PORT']} does not answer ({exc}); "
                         "start it (make up) or set DB_HOST/DB_PORT") from None
    for entry in spec:
        conn.cursor().execute(f"DROP DATABASE IF EXISTS `{entry['database']}`")
    conn.close()
    subprocess.run([sys.executable, "-m", "services.platform.provision"], cwd=ROOT, check=True,
                   input=json.dumps(spec), text=True,
                   env={**os.environ, "DB_HOST": db["DB_HOST"], "DB_PORT": db["DB_PORT"],
                        "DB_ADMIN_USER": db["DB_USER"], "DB_ADMIN_PASSWORD": db["DB_PASSWORD"]})

