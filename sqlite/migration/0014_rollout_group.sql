-- An explicit GRPO group id (log_rollout(group=)) for prompts that repeat
-- across groups of one step: a prompt row is now (text, raw, grp), and a
-- group's prompt id is the experiment's first prompt with its text and grp,
-- so rollout_groups and group_rewards, keyed by that id, keep such groups
-- apart without a change of their own. '' is no explicit id: the prompt
-- text alone keys the group, as before.
ALTER TABLE prompts ADD COLUMN grp TEXT NOT NULL DEFAULT '';
