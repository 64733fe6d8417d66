"""Applies delivery-ms's migrations (`sql/delivery_ms/`) to its database:
`python -m services.delivery_ms.migrate [--wait S]`.

Run it as the database's schema owner; the service, its relay and its consumer run as a user that cannot
change the schema."""
import sys
from pathlib import Path

from services.delivery_ms.settings import get_settings
from services.platform import migrate

MIGRATIONS = Path(__file__).resolve().parents[2] / "sql" / "delivery_ms"

if __name__ == "__main__":
    sys.exit(migrate.main("delivery-ms", get_settings(), MIGRATIONS))
