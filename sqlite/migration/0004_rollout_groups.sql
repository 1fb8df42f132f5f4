-- Per-group (experiment, step, prompt text, mode) counts and reward
-- summaries, kept up to date at insert like step_counts/step_rewards, so a
-- page of GRPO groups never scans the experiment's rollouts. prompt_id is
-- the group's prompt: the first prompt of the experiment with that text
-- (prompts with the same text but another raw form share it).
CREATE TABLE rollout_groups (
	experiment INTEGER NOT NULL,
	step       INTEGER NOT NULL,
	prompt_id  INTEGER NOT NULL,
	mode       TEXT    NOT NULL,
	count      INTEGER NOT NULL,
	PRIMARY KEY (experiment, step, prompt_id, mode)
) WITHOUT ROWID;

-- Mean and spread merge batch by batch (Chan et al.): mean and m2 (sum of
-- squared deviations) stay accurate for large offsets where sum of squares
-- does not; sum gives the reported mean, as a brute-force sum would. NULL
-- in sum, mean or m2 is NaN (from infinities); NaN rewards are in nans only.
CREATE TABLE group_rewards (
	experiment INTEGER NOT NULL,
	step       INTEGER NOT NULL,
	prompt_id  INTEGER NOT NULL,
	mode       TEXT    NOT NULL,
	name_id    INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	nans       INTEGER NOT NULL,
	sum        REAL,
	mean       REAL,
	m2         REAL,
	min        REAL,
	max        REAL,
	PRIMARY KEY (experiment, step, prompt_id, mode, name_id)
) WITHOUT ROWID;

INSERT INTO rollout_groups(experiment, step, prompt_id, mode, count)
SELECT r.experiment, r.step,
	(SELECT min(q.id) FROM prompts q WHERE q.experiment = p.experiment AND q.text_hash = p.text_hash AND q.text = p.text),
	r.mode, count(*)
FROM rollouts r JOIN prompts p ON p.id = r.prompt_id
GROUP BY 1, 2, 3, 4;

INSERT INTO group_rewards(experiment, step, prompt_id, mode, name_id, count, nans, sum, mean, m2, min, max)
WITH v AS MATERIALIZED (
	SELECT r.experiment AS e, r.step AS s,
		(SELECT min(q.id) FROM prompts q WHERE q.experiment = p.experiment AND q.text_hash = p.text_hash AND q.text = p.text) AS g,
		r.mode AS m, w.name_id AS n, w.value AS x
	FROM rollouts r JOIN prompts p ON p.id = r.prompt_id JOIN rewards w ON w.rollout_id = r.id
), a AS MATERIALIZED (
	SELECT e, s, g, m, n, count(x) AS c, count(*) - count(x) AS nans, sum(x) AS sm, avg(x) AS mean, min(x) AS lo, max(x) AS hi
	FROM v GROUP BY e, s, g, m, n
)
SELECT a.e, a.s, a.g, a.m, a.n, a.c, a.nans, CASE WHEN a.c = 0 THEN 0 ELSE a.sm END, CASE WHEN a.c = 0 THEN 0 ELSE a.mean END,
	CASE WHEN a.lo < -1.7e308 OR a.hi > 1.7e308 THEN NULL ELSE total((v.x - a.mean) * (v.x - a.mean)) END,
	a.lo, a.hi
FROM a JOIN v ON v.e = a.e AND v.s = a.s AND v.g = a.g AND v.m = a.m AND v.n = a.n
GROUP BY a.e, a.s, a.g, a.m, a.n;
