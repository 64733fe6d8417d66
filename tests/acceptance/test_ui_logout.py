"""The web UI's Log out revokes the token on the server, not only in the browser (CASE-0154)."""
import re

import pytest
from playwright.sync_api import expect

from tests.acceptance.test_revocation import refused_everywhere
from tests.acceptance.ui_support import UI_URL, log_in

pytest_plugins = ["tests.acceptance.ui_support"]


@pytest.mark.case("CASE-0154")
def test_logging_out_in_the_ui_revokes_the_token_on_both_services(page, api, account_pool):
    account = account_pool.account(1)
    try:
        log_in(page, account.user_id, account.password)
        page.click("#logout-button")
        expect(page).to_have_url(re.compile(re.escape(UI_URL) + r"\?reason=logged-out$"))
        expect(page.locator("#notice")).to_have_text("You are logged out.")
        # The pool's token was issued before the browser's, with the same version: both are revoked.
        refused_everywhere(api, account.user_id, account.token)
    finally:
        account_pool.log_in_again(1)
