-- Idempotency keys and user ids compare byte for byte: two keys that differ only in case are two orders, and
-- a token's user id, a path's user id and an order's user id are one exact form (the one signed up with).
-- No two accounts may differ only in case (user_key, the lower-case form, is unique): signing up `Alice`
-- when `alice` exists is refused, and login finds the account whichever case is typed. Earlier rows keep
-- their form; the old case-insensitive primary key already kept case-only twins out of users.
ALTER TABLE orders
    MODIFY user_id VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    MODIFY idempotency_key VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL;
ALTER TABLE users
    MODIFY user_id VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    ADD COLUMN IF NOT EXISTS user_key VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin
        AS (LOWER(user_id)) PERSISTENT,
    ADD UNIQUE KEY IF NOT EXISTS uq_users_user_key (user_key);
