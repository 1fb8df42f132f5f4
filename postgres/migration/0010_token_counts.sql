-- How many tokens each rollout's record holds, so that a page of rollouts
-- shows its token counts without reading the records.
ALTER TABLE rollout_tokens ADD COLUMN tokens bigint NOT NULL DEFAULT 0;
