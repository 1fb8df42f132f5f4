-- Times are Unix nanoseconds (INTEGER); client timestamps are seconds (REAL).
-- A NULL value column means NaN: SQLite turns a bound NaN into NULL anyway,
-- so the schema says so instead of pretending otherwise.

CREATE TABLE users (
	id            INTEGER PRIMARY KEY,
	email         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
	name          TEXT    NOT NULL DEFAULT '',
	password_hash TEXT    NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL
);

CREATE TABLE api_keys (
	id           TEXT    PRIMARY KEY,
	user_id      INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name         TEXT    NOT NULL DEFAULT '',
	prefix       TEXT    NOT NULL DEFAULT '',
	hash         BLOB    NOT NULL UNIQUE,
	created_at   INTEGER NOT NULL,
	last_used_at INTEGER
);
CREATE INDEX api_keys_user ON api_keys(user_id);

CREATE TABLE sessions (
	hash       BLOB    PRIMARY KEY,
	user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE experiments (
	pk          INTEGER PRIMARY KEY,
	id          TEXT    NOT NULL UNIQUE,
	user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
	name        TEXT    NOT NULL,
	config      TEXT    NOT NULL DEFAULT '{}',
	status      TEXT    NOT NULL,
	job_id      TEXT    NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	updated_at  INTEGER NOT NULL,
	latest_step INTEGER
);
CREATE INDEX experiments_user_created ON experiments(user_id, created_at);

-- High-volume tables carry no foreign keys: checking them on every point
-- costs ingestion speed, and DeleteExperiments removes their rows itself.
CREATE TABLE series (
	id         INTEGER PRIMARY KEY,
	experiment INTEGER NOT NULL,
	mode       TEXT    NOT NULL,
	name       TEXT    NOT NULL,
	UNIQUE (experiment, mode, name)
);

CREATE TABLE points (
	series_id INTEGER NOT NULL,
	step      INTEGER NOT NULL,
	value     REAL,
	ts        REAL    NOT NULL DEFAULT 0,
	PRIMARY KEY (series_id, step)
) WITHOUT ROWID;

-- One row per 1024 steps of a series (bucket = step >> 10). Writes only
-- mark a bucket dirty; readers recompute dirty buckets before using them.
CREATE TABLE rollups (
	series_id  INTEGER NOT NULL,
	bucket     INTEGER NOT NULL,
	dirty      INTEGER NOT NULL DEFAULT 1,
	count      INTEGER NOT NULL DEFAULT 0,
	first_step INTEGER NOT NULL DEFAULT 0,
	min_step   INTEGER NOT NULL DEFAULT 0,
	min        REAL,
	max_step   INTEGER NOT NULL DEFAULT 0,
	max        REAL,
	last_step  INTEGER NOT NULL DEFAULT 0,
	last       REAL,
	last_ts    REAL    NOT NULL DEFAULT 0,
	PRIMARY KEY (series_id, bucket)
) WITHOUT ROWID;
CREATE INDEX rollups_dirty ON rollups(series_id) WHERE dirty = 1;

CREATE TABLE idempotency (
	experiment INTEGER NOT NULL,
	key        TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	PRIMARY KEY (experiment, key)
) WITHOUT ROWID;

-- Prompts are stored once per experiment; text_hash keeps the index small
-- whatever the prompt length.
CREATE TABLE prompts (
	id         INTEGER PRIMARY KEY,
	experiment INTEGER NOT NULL,
	text_hash  INTEGER NOT NULL,
	text       TEXT    NOT NULL,
	raw        TEXT
);
CREATE INDEX prompts_experiment_hash ON prompts(experiment, text_hash);

CREATE TABLE rollouts (
	id         INTEGER PRIMARY KEY,
	experiment INTEGER NOT NULL,
	step       INTEGER NOT NULL,
	mode       TEXT    NOT NULL,
	prompt_id  INTEGER NOT NULL,
	messages   TEXT    NOT NULL,
	ts         REAL    NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL
);
CREATE INDEX rollouts_mode_step ON rollouts(experiment, mode, step, prompt_id);
CREATE INDEX rollouts_prompt ON rollouts(experiment, prompt_id, step);
CREATE INDEX rollouts_step ON rollouts(experiment, step);

CREATE TABLE reward_names (
	id         INTEGER PRIMARY KEY,
	experiment INTEGER NOT NULL,
	name       TEXT    NOT NULL,
	UNIQUE (experiment, name)
);

CREATE TABLE rewards (
	rollout_id INTEGER NOT NULL,
	name_id    INTEGER NOT NULL,
	value      REAL,
	PRIMARY KEY (rollout_id, name_id)
) WITHOUT ROWID;
CREATE INDEX rewards_name_value ON rewards(name_id, value);

-- Rollouts are append-only, so per-step counts and reward sums are kept
-- up to date at insert and StepRewards/RolloutSteps never scan rollouts.
CREATE TABLE step_counts (
	experiment INTEGER NOT NULL,
	mode       TEXT    NOT NULL,
	step       INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	PRIMARY KEY (experiment, mode, step)
) WITHOUT ROWID;

CREATE TABLE step_rewards (
	experiment INTEGER NOT NULL,
	mode       TEXT    NOT NULL,
	step       INTEGER NOT NULL,
	name_id    INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	nans       INTEGER NOT NULL,
	sum        REAL    NOT NULL,
	sumsq      REAL    NOT NULL,
	min        REAL,
	max        REAL,
	PRIMARY KEY (experiment, mode, step, name_id)
) WITHOUT ROWID;

-- Contentless: the text lives in rollouts/prompts already; rowid = rollout id.
CREATE VIRTUAL TABLE rollouts_fts USING fts5(prompt, body, content = '', contentless_delete = 1);
