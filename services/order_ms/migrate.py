"""Applies order-ms's migrations (`sql/order_ms/`) to its database: `python -m services.order_ms.migrate [--wait S]`.

Run it as the database's schema owner; the service itself runs as a user that cannot change the schema."""
import sys
from pathlib import Path

from services.order_ms.settings import get_settings
from services.platform import migrate

MIGRATIONS = Path(__file__).resolve().parents[2] / "sql" / "order_ms"

if __name__ == "__main__":
    sys.exit(migrate.main("order-ms", get_settings(), MIGRATIONS))
