-- Each step's values of each reward, and its response lengths, kept as a
-- compact sketch (storekit.Sketch) beside the step's sums, so that a
-- distribution over training reads one row per step. Rows stored before
-- stay NULL and are rebuilt from their rollouts when read or written.
ALTER TABLE step_rewards ADD COLUMN sketch bytea;
ALTER TABLE step_counts ADD COLUMN lengths bytea;
