-- Per-token text and values (logprob, entropy…) of rollout messages, kept
-- apart from the rollout rows and their search index: read only when one
-- rollout is opened. data is storekit.EncodeTokens.
CREATE TABLE rollout_tokens (
	rollout_id INTEGER PRIMARY KEY,
	data       BLOB    NOT NULL
);
