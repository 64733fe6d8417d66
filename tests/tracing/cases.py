"""The tracing suite's testcase catalog (catalog.yaml beside this file), loaded with the acceptance catalog's loader."""
from __future__ import annotations

from pathlib import Path

from tests.acceptance.uat.catalog import load_catalog

HERE = Path(__file__).resolve().parent
CATALOG = load_catalog(HERE / "catalog.yaml")
