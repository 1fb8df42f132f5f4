-- What the published client sends besides scalars and rollouts: its own id
-- for a rollout (to attach environment logs to it), reported errors, and
-- environment logs. All are append-only and scoped to one experiment.
ALTER TABLE rollouts ADD COLUMN client_id TEXT;

CREATE TABLE run_errors (
	id         INTEGER PRIMARY KEY,
	experiment INTEGER NOT NULL,
	step       INTEGER,
	mode       TEXT    NOT NULL,
	message    TEXT    NOT NULL,
	type       TEXT    NOT NULL,
	traceback  TEXT    NOT NULL,
	ts         REAL    NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);
CREATE INDEX run_errors_experiment ON run_errors(experiment, id);

CREATE TABLE env_logs (
	id         INTEGER PRIMARY KEY,
	experiment INTEGER NOT NULL,
	rollout    TEXT    NOT NULL, -- the client's rollout id, not ours: logs may arrive before their rollout
	content    TEXT    NOT NULL,
	created_at INTEGER NOT NULL
);
CREATE INDEX env_logs_rollout ON env_logs(experiment, rollout, id);
