-- A step whose rewards include both +Inf and -Inf has a NaN sum, which
-- SQLite stores as NULL: under NOT NULL that refused the whole batch. The
-- sums become nullable, NULL read as NaN (the mean a brute-force sum
-- gives). SQLite cannot drop NOT NULL in place, so the table is rebuilt.
CREATE TABLE step_rewards_new (
	experiment INTEGER NOT NULL,
	mode       TEXT    NOT NULL,
	step       INTEGER NOT NULL,
	name_id    INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	nans       INTEGER NOT NULL,
	sum        REAL,
	sumsq      REAL,
	min        REAL,
	max        REAL,
	sketch     BLOB,
	PRIMARY KEY (experiment, mode, step, name_id)
) WITHOUT ROWID;
INSERT INTO step_rewards_new(experiment, mode, step, name_id, count, nans, sum, sumsq, min, max, sketch)
	SELECT experiment, mode, step, name_id, count, nans, sum, sumsq, min, max, sketch FROM step_rewards;
DROP TABLE step_rewards;
ALTER TABLE step_rewards_new RENAME TO step_rewards;
