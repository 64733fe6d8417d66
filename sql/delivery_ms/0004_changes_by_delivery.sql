-- The consumer answers a duplicate OrderCreated by publishing the delivery's current state again, exactly as it was
-- first published: it finds the change that led to it by delivery and version.
CREATE INDEX IF NOT EXISTS ix_delivery_changes_delivery ON delivery_changes (delivery_id, version);
