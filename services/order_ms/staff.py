"""The operator's way to make a staff account (there is no sign-up for staff), to demote one and to delete any
account:

    STAFF_PASSWORD=... python -m services.order_ms.staff create --user-id NAME [--reset-password]
    python -m services.order_ms.staff create --user-id NAME --password-stdin < password-file
    python -m services.order_ms.staff demote --user-id NAME     # staff -> customer
    python -m services.order_ms.staff delete --user-id NAME     # any account

Run it where order-ms runs, as order-ms's app user (locally by the stack, in a cluster as a Job or with
`kubectl exec deploy/<release>-order-ms -- ...`). The password comes from STAFF_PASSWORD or standard input, never
from the command line (other users see that in `ps`). `create` exits 0 created or already staff, 1 the user id
belongs to a customer (in any case: nobody is promoted by accident), 2 bad arguments or settings.

An existing staff account is left as it is unless --reset-password is given, which sets its password; `create`
never changes an account's role. `demote` makes a staff account a customer and `delete` deletes an account; both
revoke every token the account holds, on every instance of both services within seconds (docs/security.md
#revocation). The user id is taken exactly as signed up. Exit codes: 0 done, 1 no such account (or, for `demote`,
not staff), 2 bad arguments or settings."""
from __future__ import annotations

import argparse
import os
import sys

from services.contracts.identifiers import USER_ID
from services.order_ms import store
from services.order_ms.accounts import MIN_PASSWORD_LENGTH, RESERVED_USER_IDS
from services.order_ms.passwords import hash_password
from services.order_ms.revocation import revoke
from services.order_ms.settings import get_settings
from services.platform.auth import ROLE_CUSTOMER, ROLE_STAFF
from services.platform.db import ConnectionPool
from services.platform.settings import SettingsError

PASSWORD_ENV = "STAFF_PASSWORD"


class Refused(Exception):
    """What the operator asked for cannot be done; the message says why and what to do instead."""

    def __init__(self, message: str, code: int):
        super().__init__(message)
        self.code = code


def read_password(from_stdin: bool) -> str:
    password = sys.stdin.readline().rstrip("\r\n") if from_stdin else os.environ.get(PASSWORD_ENV, "")
    if not MIN_PASSWORD_LENGTH <= len(password) <= 128:
        where = "standard input" if from_stdin else PASSWORD_ENV
        raise Refused(f"the password from {where} must have {MIN_PASSWORD_LENGTH}-128 characters", 2)
    return password


def check_user_id(user_id: str) -> None:
    problem = USER_ID.check(user_id)
    if problem or user_id.lower() in RESERVED_USER_IDS:
        raise Refused(f"user id {user_id!r} is not allowed: {problem or 'reserved'} ({USER_ID.rule})", 2)


def create_staff(pool: ConnectionPool, user_id: str, password: str, reset_password: bool) -> str:
    """What was done: 'created', 'exists' or 'password reset'; raises Refused when the id is a customer's."""
    if store.create_user(pool, user_id, hash_password(password), ROLE_STAFF) is not None:
        return "created"
    existing = store.get_user(pool, user_id)
    if existing is None or existing["user_id"] != user_id or existing["role"] != ROLE_STAFF:
        owner = existing["user_id"] if existing else user_id
        raise Refused(f"user id {user_id!r} is taken by the {existing['role'] if existing else 'unknown'} account "
                      f"{owner!r}, which is left as it is; choose another user id for the staff account", 1)
    if not reset_password:
        return "exists"
    store.set_password(pool, user_id, hash_password(password))
    return "password reset"


def demote_staff(pool: ConnectionPool, user_id: str) -> str:
    existing = store.get_user(pool, user_id)
    if existing is None or existing["user_id"] != user_id:
        raise Refused(f"there is no account {user_id!r} (user ids are taken exactly as signed up)", 1)
    if existing["role"] != ROLE_STAFF:
        raise Refused(f"{user_id!r} is a {existing['role']} account, not staff; nothing was changed", 1)
    if revoke(pool, user_id, "ROLE_CHANGED", ROLE_CUSTOMER) is None:
        raise Refused(f"the account {user_id!r} was deleted meanwhile", 1)
    return "demoted to customer; its tokens are revoked"


def delete_account(pool: ConnectionPool, user_id: str) -> str:
    if revoke(pool, user_id, "DELETED") is None:
        raise Refused(f"there is no account {user_id!r} (user ids are taken exactly as signed up; a deleted one is "
                      "gone already)", 1)
    return "deleted; its tokens are revoked and its user id stays taken"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m services.order_ms.staff", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a staff account (kept as it is when it exists)")
    create.add_argument("--user-id", required=True)
    create.add_argument("--password-stdin", action="store_true", help=f"read the password from standard input, "
                                                                      f"not {PASSWORD_ENV}")
    create.add_argument("--reset-password", action="store_true", help="set the password of an existing staff account")
    for name, text in (("demote", "make a staff account a customer and revoke its tokens"),
                       ("delete", "delete an account (customer or staff) and revoke its tokens")):
        commands.add_parser(name, help=text).add_argument("--user-id", required=True)
    args = parser.parse_args(argv)
    try:
        check_user_id(args.user_id)
        password = read_password(args.password_stdin) if args.command == "create" else ""
        settings = get_settings()
        pool = ConnectionPool(settings, size=1)
        try:
            if args.command == "create":
                done = create_staff(pool, args.user_id, password, args.reset_password)
            elif args.command == "demote":
                done = demote_staff(pool, args.user_id)
            else:
                done = delete_account(pool, args.user_id)
        finally:
            pool.close()
    except SettingsError as error:
        print(f"staff {args.command} refused: {error}", file=sys.stderr)
        return 2
    except Refused as refused:
        print(f"staff {args.command} refused: {refused}", file=sys.stderr)
        return refused.code
    print(f"{'staff account' if args.command == 'create' else 'account'} {args.user_id!r}: {done}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
