-- What order-ms knows of each order's delivery, kept by its status consumer from `delivery_status`.
-- One row per order once its first event arrived; `version` is the delivery's, and only a higher one is applied,
-- so a late, replayed or re-published event never moves an order's delivery backwards.
CREATE TABLE IF NOT EXISTS order_deliveries (
    order_id CHAR(36) NOT NULL PRIMARY KEY,
    delivery_id CHAR(36) NOT NULL,
    status ENUM('CONFIRMED', 'IN_DELIVERY', 'COMPLETED', 'CANCELED') NOT NULL,
    version INT UNSIGNED NOT NULL,
    updated_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- A customer's cancel request and its outcome: PENDING until delivery-ms answers, then CANCELED (the delivery
-- moved to CANCELED) or REFUSED (with delivery-ms's reason). One request per order.
CREATE TABLE IF NOT EXISTS order_cancel_requests (
    order_id CHAR(36) NOT NULL PRIMARY KEY,
    requested_at DATETIME(6) NOT NULL,
    outcome ENUM('PENDING', 'CANCELED', 'REFUSED') NOT NULL DEFAULT 'PENDING',
    reason VARCHAR(200) NULL,
    decided_at DATETIME(6) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Every change a customer's stream shows, in the order order-ms applied it: `id` is the event id of
-- `GET /order-ms/<user_id>/orders/events`, so a client reconnecting with Last-Event-ID gets what came after it
-- (also across restarts). `kind` says what changed: the delivery's status, or the cancel request's outcome.
CREATE TABLE IF NOT EXISTS order_status_changes (
    id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
    user_id VARCHAR(50) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
    order_id CHAR(36) NOT NULL,
    kind ENUM('DELIVERY', 'CANCEL') NOT NULL,
    delivery_id CHAR(36) NULL,
    status ENUM('CONFIRMED', 'IN_DELIVERY', 'COMPLETED', 'CANCELED') NULL,
    cancel_outcome ENUM('PENDING', 'CANCELED', 'REFUSED') NULL,
    reason VARCHAR(200) NULL,
    updated_at DATETIME(6) NOT NULL,
    KEY ix_order_status_changes_user (user_id, id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- The reconciler: when it last re-published an order's creation event (NULL: never), so it waits a full
-- period before the next; and the index it finds orders by age with.
ALTER TABLE orders
    ADD COLUMN IF NOT EXISTS republished_at DATETIME(6) NULL,
    ADD KEY IF NOT EXISTS ix_orders_ordered_at (ordered_at);
