-- User ids compare byte for byte, as in order-ms (sql/order_ms/0005): a customer's list and the staff board's
-- changes name one exact form, the one the account was signed up with, which the events carry. With the old
-- case-insensitive collation, `alice` (e.g. signed up after an account `Alice` was deleted) saw `Alice`'s
-- deliveries. Rows keep their form; the indexes on user_id are rebuilt with the column.
ALTER TABLE delivery_status
    MODIFY user_id VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;
ALTER TABLE delivery_changes
    MODIFY user_id VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL;
