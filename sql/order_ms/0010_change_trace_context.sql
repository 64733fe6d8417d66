-- Tracing (docs/tracing.md): the W3C traceparent of the span a change was logged in (the status consumer's process
-- span of the event, or the customer's cancel request), so that the stream process's push of it continues the
-- order's trace. NULL when tracing is off or the change predates it. Adding a nullable column is instant in MariaDB.
ALTER TABLE order_status_changes
    ADD COLUMN IF NOT EXISTS traceparent VARCHAR(55) CHARACTER SET ascii COLLATE ascii_bin NULL;
