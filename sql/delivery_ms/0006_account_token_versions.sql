-- The lowest token version each account's tokens must carry, from order-ms's `account_versions` events
-- (docs/security.md#revocation): delivery-ms refuses a token whose version is lower. An account without a row
-- has never revoked a token. Versions only grow: a redelivered or older event never lowers one.
CREATE TABLE IF NOT EXISTS account_token_versions (
    user_id VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL PRIMARY KEY,
    token_version INT UNSIGNED NOT NULL,
    revoked_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
