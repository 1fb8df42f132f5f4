-- The SDK's heartbeat: an active run whose heartbeat stopped is marked
-- crashed. Runs that never sent one (older and published clients) are
-- never marked.
ALTER TABLE experiments ADD COLUMN heartbeat_at INTEGER;
CREATE INDEX experiments_active_heartbeat ON experiments(heartbeat_at) WHERE status = 'active';
