-- Deliveries, one per order (the consumer writes them), and the outbox of their status changes.
CREATE TABLE IF NOT EXISTS delivery_status (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    delivery_id CHAR(36) NOT NULL,
    order_id CHAR(36) NOT NULL,
    user_id VARCHAR(50) NOT NULL,
    order_json LONGTEXT NOT NULL,
    status ENUM('CONFIRMED', 'IN_DELIVERY', 'COMPLETED', 'CANCELED') NOT NULL DEFAULT 'CONFIRMED',
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    UNIQUE KEY uq_delivery_status_delivery_id (delivery_id),
    -- One delivery per order: a redelivered new_orders event inserts nothing.
    UNIQUE KEY uq_delivery_status_order_id (order_id),
    KEY ix_delivery_status_user_newest (user_id, id),
    KEY ix_delivery_status_status_newest (status, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

CREATE TABLE IF NOT EXISTS delivery_outbox (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    event_id CHAR(36) NOT NULL,
    topic VARCHAR(255) NOT NULL,
    message_key VARCHAR(255) NOT NULL,
    payload LONGTEXT NOT NULL,
    headers LONGTEXT NOT NULL,
    created_at DATETIME(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    sent_at DATETIME(6) NULL,
    UNIQUE KEY uq_delivery_outbox_event (event_id),
    KEY ix_delivery_outbox_pending (sent_at, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
