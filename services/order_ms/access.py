"""Who may call which order-ms route: a valid user_id in the path, then one decorator per access rule."""
from __future__ import annotations

import functools

from flask import url_for

from services.contracts.identifiers import USER_ID
from services.order_ms import PREFIX
from services.platform import auth
from services.platform.validation import check_path_segment


def valid_user_id(view):
    """The path's user_id follows the user id rule (422 otherwise), checked before the token."""
    @functools.wraps(view)
    def checked(*args, **kwargs):
        check_path_segment("user_id", kwargs["user_id"], USER_ID, "USER0001", title="Invalid User Id")
        return view(*args, **kwargs)
    return checked


# Reading orders: customers their own, staff anyone's.
own_or_staff = auth.self_or_staff(
    hint=lambda caller, user_id: f"Use {PREFIX}/{caller}/... or log in as {user_id!r}.")
# Placing orders: only under one's own user_id, staff included.
own_only = auth.self_only(
    hint=lambda caller, _user_id: (
        f"Place orders under your own id: POST {url_for('orders.create_order', user_id=caller)}."
    )
)
# Deleting an account: only the account itself, staff included (an operator deletes others with staff.py).
own_account_only = auth.self_only(
    hint=lambda caller, _user_id: (
        f"You can delete only your own account: DELETE {url_for('accounts.delete_account', user_id=caller)}. "
        "An operator deletes other accounts with python -m services.order_ms.staff delete --user-id ID."
    )
)
