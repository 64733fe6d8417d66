-- Orders and their outbox: written in one transaction by order-ms, published by its relay.
CREATE TABLE IF NOT EXISTS orders (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    order_id CHAR(36) NOT NULL,
    user_id VARCHAR(50) NOT NULL,
    coffee_name VARCHAR(50) NOT NULL,
    coffee_price INT UNSIGNED NOT NULL,
    coffee_qty SMALLINT UNSIGNED NOT NULL,
    ordered_at DATETIME(6) NOT NULL,
    idempotency_key VARCHAR(255) NULL,
    request_hash CHAR(64) NULL,
    UNIQUE KEY uq_orders_order_id (order_id),
    UNIQUE KEY uq_orders_idempotency (user_id, idempotency_key),
    KEY ix_orders_user_newest (user_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS order_outbox (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    event_id CHAR(36) NOT NULL,
    topic VARCHAR(255) NOT NULL,
    message_key VARCHAR(255) NOT NULL,
    payload LONGTEXT NOT NULL,
    headers LONGTEXT NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    sent_at DATETIME(6) NULL,
    UNIQUE KEY uq_order_outbox_event (event_id),
    KEY ix_order_outbox_pending (sent_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
