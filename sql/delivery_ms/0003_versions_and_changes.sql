-- Every delivery has a version: 1 when created, one higher with every change; its events carry it, so readers
-- apply each change once and in order.
ALTER TABLE delivery_status ADD COLUMN IF NOT EXISTS version INT UNSIGNED NOT NULL DEFAULT 1;

-- Every creation and change of a delivery, in commit order, for the staff board's stream
-- (`GET /delivery-ms/deliveries/events`): `id` is the event id a reconnecting board sends as Last-Event-ID.
CREATE TABLE IF NOT EXISTS delivery_changes (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    delivery_id CHAR(36) NOT NULL,
    order_id CHAR(36) NOT NULL,
    user_id VARCHAR(50) NOT NULL,
    status ENUM('CONFIRMED', 'IN_DELIVERY', 'COMPLETED', 'CANCELED') NOT NULL,
    previous_status ENUM('CONFIRMED', 'IN_DELIVERY', 'COMPLETED', 'CANCELED') NULL,
    version INT UNSIGNED NOT NULL,
    updated_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
