-- An explicit GRPO group id (log_rollout(group=)) for prompts that repeat
-- across groups of one step: a prompt row is now (text, grp), and
-- rollout_groups and group_rewards, keyed by the prompt row, keep such
-- groups apart without a change of their own. '' is no explicit id: the
-- prompt text alone keys the group, as before.
ALTER TABLE prompts ADD COLUMN grp text NOT NULL DEFAULT '';
ALTER TABLE prompts DROP CONSTRAINT prompts_experiment_text_sha_key;
ALTER TABLE prompts ADD CONSTRAINT prompts_experiment_text_sha_grp_key UNIQUE (experiment, text_sha, grp);
