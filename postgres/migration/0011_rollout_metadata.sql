-- Each rollout's metadata: a JSON object the client logged (sample index,
-- model version, stop reason…), kept verbatim as text (jsonb would reorder
-- its keys and drop duplicates); NULL when none.
ALTER TABLE rollouts ADD COLUMN metadata text;
