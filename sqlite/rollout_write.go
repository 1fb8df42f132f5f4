package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
)

// WriteRollouts stores a batch in one transaction and sets each rollout's ID and CreatedAt.
func (db *DB) WriteRollouts(ctx context.Context, experimentID string, batch []*expt.Rollout, idemKey string) (bool, error) {
	if err := expt.CheckRollouts(batch); err != nil {
		return false, err
	}
	msgs := storekit.BatchMessages(batch)
	w := &rolloutWriter{db: db}
	applied, err := db.appendBatch(ctx, experimentID, idemKey, func(tx *sql.Tx, pk int64) error {
		w.tx, w.exp = tx, pk
		w.newNames, w.newPrompts = storekit.Pending[string]{}, storekit.Pending[promptKey]{}
		return w.write(ctx, experimentID, batch, msgs)
	})
	if err != nil {
		return false, err
	}
	db.cache.rewards.Put(w.exp, w.newNames)
	db.cache.prompts.Put(w.exp, w.newPrompts)
	return applied, nil
}

// rolloutWriter holds one WriteRollouts transaction's state.
type rolloutWriter struct {
	db         *DB
	tx         *sql.Tx
	exp        int64
	newNames   storekit.Pending[string]
	newPrompts storekit.Pending[promptKey]
}

// Rows go in with multi-row INSERTs of up to this many rows: one statement
// per row costs more in driver round trips than SQLite spends storing it.
const rowsPerInsert = 100

// multiInsert runs prefix + "(?,...),(?,...)" + suffix over rows of
// width args each, rowsPerInsert rows per statement.
func (w *rolloutWriter) multiInsert(ctx context.Context, what, prefix, suffix string, width int, args []any) error {
	return w.multiInsertN(ctx, what, prefix, suffix, width, rowsPerInsert, args)
}

func (w *rolloutWriter) multiInsertN(ctx context.Context, what, prefix, suffix string, width, rowsPerInsert int, args []any) error {
	tuple := "(" + strings.TrimSuffix(strings.Repeat("?,", width), ",") + ")"
	for len(args) > 0 {
		n := min(len(args)/width, rowsPerInsert)
		q := prefix + strings.TrimSuffix(strings.Repeat(tuple+",", n), ",") + suffix
		if _, err := w.tx.ExecContext(ctx, q, args[:n*width]...); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		args = args[n*width:]
	}
	return nil
}

func (w *rolloutWriter) write(ctx context.Context, experimentID string, batch []*expt.Rollout, msgs []string) error {
	// Ids are chosen here, as SQLite would (one past the largest), so that
	// rollouts can go in many per statement: this transaction is the only writer.
	var lastID int64
	if err := w.tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM rollouts`).Scan(&lastID); err != nil {
		return fmt.Errorf("rollout id: %w", err)
	}
	created := now()
	createdNs := nanos(created)
	stats := storekit.NewBatchStats(len(batch))
	rolloutArgs := make([]any, 0, 10*len(batch))
	ftsArgs := make([]any, 0, 3*len(batch))
	var body strings.Builder
	nameID := func(name string) (int64, error) { return w.rewardNameID(ctx, name) }
	for i, r := range batch {
		promptID, groupID, err := w.promptID(ctx, r.Prompt, r.PromptRaw, r.Group)
		if err != nil {
			return err
		}
		lastID++
		r.ID = lastID
		r.ExperimentID, r.CreatedAt = experimentID, created
		rolloutArgs = append(rolloutArgs, r.ID, w.exp, r.Step, r.Mode, promptID, msgs[i], r.TS, createdNs, sql.NullString{String: r.ClientID, Valid: r.ClientID != ""}, nullText(r.Metadata))
		ftsArgs = append(ftsArgs, r.ID, r.Prompt, storekit.SearchBody(&body, r.Messages))
		if err := stats.Add(r, groupID, nameID); err != nil {
			return err
		}
	}
	rw := stats.Rewards
	rewardArgs := make([]any, 0, 3*len(rw.Rollout))
	for j := range rw.Rollout {
		rewardArgs = append(rewardArgs, rw.Rollout[j], rw.Name[j], nullable(rw.Value[j]))
	}
	if err := w.multiInsert(ctx, "insert rollout", `INSERT INTO rollouts(id, experiment, step, mode, prompt_id, messages, ts, created_at, client_id, metadata) VALUES `, "", 10, rolloutArgs); err != nil {
		return err
	}
	if err := w.multiInsert(ctx, "insert reward", `INSERT INTO rewards(rollout_id, name_id, value) VALUES `, "", 3, rewardArgs); err != nil {
		return err
	}
	var tokenArgs []any
	for _, r := range batch {
		if b := storekit.EncodeTokens(r.Tokens); b != nil {
			r.TokenCount = expt.CountTokens(r.Tokens)
			tokenArgs = append(tokenArgs, r.ID, b, r.TokenCount)
		}
	}
	if err := w.multiInsert(ctx, "insert tokens", `INSERT INTO rollout_tokens(rollout_id, data, tokens) VALUES `, "", 3, tokenArgs); err != nil {
		return err
	}
	if err := w.upsertStepStats(ctx, stats.Steps, stats.StepSums); err != nil {
		return err
	}
	if err := storekit.MergeSketches(ctx, conn{w.tx}, w.exp, stats); err != nil {
		return err
	}
	if err := w.upsertGroupStats(ctx, stats.Groups, stats.GroupSums); err != nil {
		return err
	}
	if err := touchExperiment(ctx, w.tx, w.exp, stats.Latest); err != nil {
		return err
	}
	// The full-text rows go last, in as few statements as SQLite allows:
	// every later statement of the transaction starts a savepoint, and
	// FTS5 flushes its pending terms to a new segment at each one, which
	// then costs merges (a third of a batch's time with one flush per
	// 100 rows).
	return w.multiInsertN(ctx, "index rollout", `INSERT INTO rollouts_fts(rowid, prompt, body) VALUES `, "", 3, ftsRowsPerInsert, ftsArgs)
}

// ftsRowsPerInsert keeps a full-text INSERT under SQLite's 32,766 bound
// parameters while a batch of up to 10,000 rollouts is one statement.
const ftsRowsPerInsert = 10_000

func (w *rolloutWriter) upsertGroupStats(ctx context.Context, groups map[storekit.GroupKey]int64, sums map[storekit.GroupRewardKey]*storekit.RewardMoments) error {
	args := make([]any, 0, 5*len(groups))
	for k, n := range groups {
		args = append(args, w.exp, k.Step, k.Prompt, k.Mode, n)
	}
	if err := w.multiInsert(ctx, "upsert rollout groups", `INSERT INTO rollout_groups(experiment, step, prompt_id, mode, count) VALUES `,
		` ON CONFLICT DO UPDATE SET count = count + excluded.count`, 5, args); err != nil {
		return err
	}
	args = make([]any, 0, 12*len(sums))
	for k, s := range sums {
		var lo, hi any
		if s.Count > 0 {
			lo, hi = s.Min, s.Max
		}
		args = append(args, w.exp, k.Step, k.Prompt, k.Mode, k.Name, s.Count, s.NaNs, nullable(s.Sum), nullable(s.Mean), nullable(s.M2), lo, hi)
	}
	// In an upsert every column on the right is the old value. Merging
	// means: delta = mean_b - mean_a, mean += delta*n_b/n, m2 += m2_b + delta²*n_a*n_b/n.
	return w.multiInsert(ctx, "upsert group rewards", `INSERT INTO group_rewards(experiment, step, prompt_id, mode, name_id, count, nans, sum, mean, m2, min, max) VALUES `,
		` ON CONFLICT DO UPDATE SET
			count = count + excluded.count, nans = nans + excluded.nans,
			sum = sum + excluded.sum,
			mean = CASE WHEN excluded.count = 0 THEN mean WHEN count = 0 THEN excluded.mean
				ELSE mean + (excluded.mean - mean) * excluded.count / (count + excluded.count) END,
			m2 = CASE WHEN excluded.count = 0 THEN m2 WHEN count = 0 THEN excluded.m2
				ELSE m2 + excluded.m2 + (excluded.mean - mean) * (excluded.mean - mean) * count * excluded.count / (count + excluded.count) END,
			min = CASE WHEN min IS NULL THEN excluded.min WHEN excluded.min IS NULL THEN min ELSE min(min, excluded.min) END,
			max = CASE WHEN max IS NULL THEN excluded.max WHEN excluded.max IS NULL THEN max ELSE max(max, excluded.max) END`, 12, args)
}

func (w *rolloutWriter) upsertStepStats(ctx context.Context, counts map[storekit.StepKey]int64, sums map[storekit.StepRewardKey]*storekit.RewardSums) error {
	for k, n := range counts {
		if _, err := w.tx.ExecContext(ctx, `INSERT INTO step_counts(experiment, mode, step, count) VALUES (?, ?, ?, ?)
			ON CONFLICT DO UPDATE SET count = count + excluded.count`, w.exp, k.Mode, k.Step, n); err != nil {
			return fmt.Errorf("upsert step count: %w", err)
		}
	}
	for k, s := range sums {
		var lo, hi any
		if s.Count > 0 {
			lo, hi = s.Min, s.Max
		}
		if _, err := w.tx.ExecContext(ctx, `INSERT INTO step_rewards(experiment, mode, step, name_id, count, nans, sum, sumsq, min, max)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET
			count = count + excluded.count, nans = nans + excluded.nans,
			sum = sum + excluded.sum, sumsq = sumsq + excluded.sumsq,
			min = CASE WHEN min IS NULL THEN excluded.min WHEN excluded.min IS NULL THEN min ELSE min(min, excluded.min) END,
			max = CASE WHEN max IS NULL THEN excluded.max WHEN excluded.max IS NULL THEN max ELSE max(max, excluded.max) END`,
			w.exp, k.Mode, k.Step, k.Name, s.Count, s.NaNs, s.Sum, s.SumSq, lo, hi); err != nil {
			return fmt.Errorf("upsert step rewards: %w", err)
		}
	}
	return nil
}

// textHash keys prompts in a small index whatever their length.
func textHash(s string) int64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return int64(h.Sum64())
}

// groupMarker is the raw form under which the prompt cache keeps a text's
// group prompt id; it is not JSON, so no logged prompt has it.
const groupMarker = "\x00group"

// promptID returns the id of the prompt (text, raw, grp), stored if new,
// and the id of its group's prompt: the experiment's first prompt with the
// same text and explicit group id, since a group is keyed by those alone.
func (w *rolloutWriter) promptID(ctx context.Context, text string, raw json.RawMessage, grp string) (id, group int64, err error) {
	k := promptKey{text, string(raw), grp}
	gk := promptKey{text, groupMarker, grp}
	id, ok := w.newPrompts.Lookup(&w.db.cache.prompts, w.exp, k)
	group, gok := w.newPrompts.Lookup(&w.db.cache.prompts, w.exp, gk)
	if ok && gok {
		return id, group, nil
	}
	id, group = 0, 0
	h := textHash(text)
	rows, err := w.tx.QueryContext(ctx, `SELECT id, raw FROM prompts WHERE experiment = ? AND text_hash = ? AND text = ? AND grp = ? ORDER BY id`, w.exp, h, text, grp)
	if err != nil {
		return 0, 0, fmt.Errorf("prompt id: %w", err)
	}
	found := false
	for rows.Next() {
		var pid int64
		var r sql.NullString
		if err := rows.Scan(&pid, &r); err != nil {
			rows.Close()
			return 0, 0, fmt.Errorf("prompt id: %w", err)
		}
		if group == 0 {
			group = pid
		}
		if !found && r.Valid == (raw != nil) && r.String == string(raw) {
			id, found = pid, true
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("prompt id: %w", err)
	}
	if !found {
		var rawArg any
		if raw != nil {
			rawArg = string(raw)
		}
		if err := w.tx.QueryRowContext(ctx, `INSERT INTO prompts(experiment, text_hash, text, raw, grp) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			w.exp, h, text, rawArg, grp).Scan(&id); err != nil {
			return 0, 0, fmt.Errorf("prompt id: %w", err)
		}
		if group == 0 {
			group = id
		}
	}
	w.newPrompts[k], w.newPrompts[gk] = id, group
	return id, group, nil
}

func (w *rolloutWriter) rewardNameID(ctx context.Context, name string) (int64, error) {
	if id, ok := w.newNames.Lookup(&w.db.cache.rewards, w.exp, name); ok {
		return id, nil
	}
	var id int64
	if err := w.tx.QueryRowContext(ctx, `INSERT INTO reward_names(experiment, name) VALUES (?, ?)
		ON CONFLICT(experiment, name) DO UPDATE SET name = excluded.name RETURNING id`, w.exp, name).Scan(&id); err != nil {
		return 0, fmt.Errorf("reward name id: %w", err)
	}
	w.newNames[name] = id
	return id, nil
}

// nullText is raw JSON as a nullable text argument: NULL when there is none.
func nullText(b []byte) sql.NullString {
	return sql.NullString{String: string(b), Valid: b != nil}
}
