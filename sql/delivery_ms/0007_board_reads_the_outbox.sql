-- The staff board's stream (`GET /delivery-ms/deliveries/events`) reads the delivery outbox, which holds every
-- creation and change of a delivery as the DeliveryStatusChanged event published for it (sent rows are kept), in
-- commit order: a change-log row of its own per change was a third insert per new delivery, the consumer's largest
-- cost after the delivery itself. `delivery_changes` is no longer written; a release that still writes it (during
-- a rolling upgrade) does no harm, and a later migration drops it.
--
-- A delivery keeps the status before its last change, so re-publishing its current state (a duplicate
-- OrderCreated, e.g. from order-ms's reconciler) needs no change log: taken from the log for every delivery.
ALTER TABLE delivery_status ADD COLUMN IF NOT EXISTS
    previous_status ENUM('CONFIRMED', 'IN_DELIVERY', 'COMPLETED', 'CANCELED') NULL AFTER status;
UPDATE delivery_status d JOIN delivery_changes c ON c.delivery_id = d.delivery_id AND c.version = d.version
    SET d.previous_status = c.previous_status
    WHERE d.previous_status IS NULL;
-- The board's events: every outbox row with its delivery's customer (a DeliveryStatusChanged names the order, its
-- key; the stream shows only that event type). `id` is the event id a reconnecting board sends as Last-Event-ID.
-- Rows of other event types stay in the view, so the stream's gap-aware cursor sees every id commit.
CREATE OR REPLACE SQL SECURITY INVOKER VIEW delivery_board_changes AS
    SELECT o.id, o.headers, o.payload, d.user_id
    FROM delivery_outbox o
    LEFT JOIN delivery_status d ON d.order_id = CONVERT(o.message_key USING utf8mb4) COLLATE utf8mb4_unicode_ci;
