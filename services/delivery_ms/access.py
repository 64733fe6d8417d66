"""Who may call which delivery-ms route: one decorator per access rule, and whose deliveries a caller sees."""
from __future__ import annotations

from services.platform import auth

# Changing statuses is staff work.
staff_only = auth.staff_only(
    hint="Log in with a staff account; the local stack prints its demo staff account at start."
)


def visible_owner() -> str | None:
    """Whose deliveries the caller may see: staff see all (None), customers only their own orders' deliveries."""
    principal = auth.current_principal()
    return None if principal.is_staff else principal.user_id
