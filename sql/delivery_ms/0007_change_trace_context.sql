-- Tracing (docs/tracing.md): the W3C traceparent of the span a delivery's creation or change was logged in (the
-- consumer's process span of the order's event, or staff's move request), so that the board stream's push of it
-- continues that trace. NULL when tracing is off or the change predates it. Adding a nullable column is instant.
ALTER TABLE delivery_changes
    ADD COLUMN IF NOT EXISTS traceparent VARCHAR(55) CHARACTER SET ascii COLLATE ascii_bin NULL;
