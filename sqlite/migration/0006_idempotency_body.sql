-- The hash of the request body an Idempotency-Key was first used with, so
-- that the same key with another body is refused rather than taken for a
-- replay. NULL for keys stored before.
ALTER TABLE idempotency ADD COLUMN body_hash TEXT;
