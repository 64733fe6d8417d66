"""What `make run` does on a machine without MariaDB: its own mariadbd under .run/, supervised."""
import mariadb

from scripts.stack.layout import layout_for
from scripts.stack.mariadb import database_server
from scripts.stack.supervisor import Supervisor


def test_stack_starts_a_private_mariadb_when_none_answers(monkeypatch):
    monkeypatch.setenv("STACK_PORT_OFFSET", "-1000")  # private server on 2307
    monkeypatch.delenv("DB_HOST", raising=False)
    monkeypatch.setenv("DB_PORT", "1")  # the "usual" server does not answer
    layout = layout_for("privatedb")
    layout.logs.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor(layout.logs, echo=False)
    try:
        server = database_server(layout, supervisor)
        assert (server.port, server.private) == (2307, True)
        conn = mariadb.connect(host="127.0.0.1", port=2307, user=server.admin_user, password=server.admin_password)
        cursor = conn.cursor()
        cursor.execute("SELECT @@datadir")
        assert ".run/mariadb/privatedb" in cursor.fetchone()[0]
        conn.close()
    finally:
        supervisor.stop_all()
