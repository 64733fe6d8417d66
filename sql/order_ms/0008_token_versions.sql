-- Revocation (docs/security.md#revocation): every token carries its account's token_version, and a token is
-- valid only while the account still has that version. A logout, a role change and a deletion add one, so every
-- token issued before is refused. Tokens issued before this migration carry no version and count as version 1,
-- the version every existing account starts with: an upgrade logs no one out.
-- A deleted account keeps its row (no password, deleted_at set): its id is never signed up again, so neither a
-- newcomer nor an old token can ever act as it.
ALTER TABLE users
    ADD COLUMN IF NOT EXISTS token_version INT UNSIGNED NOT NULL DEFAULT 1,
    ADD COLUMN IF NOT EXISTS deleted_at DATETIME(6) NULL;
