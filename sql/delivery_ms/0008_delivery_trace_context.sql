-- Tracing (docs/tracing.md): the W3C traceparent a delivery was created in (the consumer's process span of its
-- order's record), so that every later change of it (a staff move, a customer's cancel) continues the order's trace
-- instead of starting one of its own. NULL for a delivery created with tracing off or before this column: its
-- changes stay in the trace of whoever made them. Adding a nullable column is instant.
ALTER TABLE delivery_status
    ADD COLUMN IF NOT EXISTS traceparent VARCHAR(55) CHARACTER SET ascii COLLATE ascii_bin NULL;
