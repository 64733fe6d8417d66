-- An outbox row holds the record it will become: key and value as the bytes the broker gets (binary columns),
-- headers as a JSON list of [name, value] pairs in their order. Rows not yet published get their headers in
-- that shape too; published rows are never read again and keep theirs.
UPDATE delivery_outbox SET headers = (
    SELECT COALESCE(JSON_ARRAYAGG(JSON_ARRAY(h.name, JSON_VALUE(delivery_outbox.headers, CONCAT('$."', h.name, '"')))
                                  ORDER BY h.position), '[]')
    FROM JSON_TABLE(JSON_KEYS(delivery_outbox.headers), '$[*]' COLUMNS (position FOR ORDINALITY, name VARCHAR(255) PATH '$')) AS h)
WHERE sent_at IS NULL AND JSON_TYPE(headers) = 'OBJECT';
ALTER TABLE delivery_outbox MODIFY message_key VARBINARY(255) NOT NULL, MODIFY payload LONGBLOB NOT NULL;
