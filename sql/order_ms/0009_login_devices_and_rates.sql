-- Device tokens (OWASP's device cookies): a client that logged in to an account gets a random token, kept here
-- only as its SHA-256, and a later login of that account that returns it skips the per-address locks and rates
-- that strangers behind the same address can set off; it has limits of its own (login_throttle.py).
-- One token may vouch for several accounts (a family's browser): one row per (token, account).
CREATE TABLE IF NOT EXISTS login_devices (
    token_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
    user_key VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    issued_at DATETIME(6) NOT NULL,
    last_login_at DATETIME(6) NOT NULL,
    PRIMARY KEY (token_hash, user_key),
    KEY login_devices_account (user_key, last_login_at),
    KEY login_devices_last_login (last_login_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
-- New counters: failed logins per (account, device); logins (successful ones too) per client address, per
-- account and per (account, device) in a short window; sign-ups of all clients together.
ALTER TABLE login_throttle MODIFY scope ENUM('user_client', 'client', 'signup', 'device', 'login_client',
    'login_account', 'login_device', 'signup_all') NOT NULL;
