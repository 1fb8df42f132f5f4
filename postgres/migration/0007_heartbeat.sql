-- The SDK's heartbeat, as sqlite/migration/0009_heartbeat.sql.
ALTER TABLE experiments ADD COLUMN heartbeat_at timestamptz;
CREATE INDEX experiments_active_heartbeat ON experiments (heartbeat_at) WHERE status = 'active';
