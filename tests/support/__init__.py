"""Helpers shared by the unit and integration suites (the acceptance suite stays black-box)."""
