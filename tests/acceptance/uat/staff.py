"""The deployment's staff account for the suite. There is no default password: UAT_STAFF_USER and
UAT_STAFF_PASSWORD name an account the operator made (`python -m services.order_ms.staff create`, which the
local stack runs at start and the cluster's acceptance Job runs before the suite), or, when they are unset, the
suite takes the account the local stack recorded in its state file (STACK_STATE, default the dev stack's)."""
from __future__ import annotations

import json
import os
from pathlib import Path

DEV_STACK_STATE = Path(__file__).resolve().parents[3] / ".run" / "dev" / "state.json"


class NoStaffAccount(RuntimeError):
    pass


def staff_credentials() -> tuple[str, str]:
    user, password = os.environ.get("UAT_STAFF_USER"), os.environ.get("UAT_STAFF_PASSWORD")
    if user and password:
        return user, password
    state_file = Path(os.environ.get("STACK_STATE") or DEV_STACK_STATE)
    try:
        staff = json.loads(state_file.read_text())["staff"]
        return staff["user_id"], staff["password"]
    except (OSError, ValueError, KeyError) as missing:
        raise NoStaffAccount(
            f"no staff account for the suite: set UAT_STAFF_USER and UAT_STAFF_PASSWORD to an account made with "
            f"`python -m services.order_ms.staff create --user-id NAME` (the local stack records its own in "
            f"{state_file}, which could not be read: {missing!r})") from None
