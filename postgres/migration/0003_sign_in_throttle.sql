-- Failed sign-ins per key (email + client address) in a fixed window,
-- shared by every replica so that N replicas do not allow N times the
-- guesses. UNLOGGED: losing the counts in a crash only resets windows.
CREATE UNLOGGED TABLE sign_in_failures (
	key          text        PRIMARY KEY,
	failures     integer     NOT NULL,
	window_start timestamptz NOT NULL
);
CREATE INDEX sign_in_failures_window ON sign_in_failures (window_start);
