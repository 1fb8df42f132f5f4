package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"

	"github.com/expt-logger/expt"
)

// WriteRollouts stores a batch in one transaction and sets each rollout's ID and CreatedAt.
func (db *DB) WriteRollouts(ctx context.Context, experimentID string, batch []*expt.Rollout, idemKey string) (bool, error) {
	msgs := make([]string, len(batch))
	for i, r := range batch {
		if r == nil {
			return false, expt.Errorf(expt.EINVALID, "rollout %d is null", i)
		}
		if r.Mode == "" {
			return false, expt.Errorf(expt.EINVALID, "rollout %d: mode is required", i)
		}
		if r.Step < 0 {
			return false, expt.Errorf(expt.EINVALID, "rollout %d: step must not be negative", i)
		}
		for _, w := range r.Rewards {
			if w.Name == "" {
				return false, expt.Errorf(expt.EINVALID, "rollout %d: reward name is required", i)
			}
		}
		if r.PromptRaw != nil && !json.Valid(r.PromptRaw) {
			return false, expt.Errorf(expt.EINVALID, "rollout %d: prompt is not valid JSON", i)
		}
		var err error
		if msgs[i], err = messagesJSON(r.Messages); err != nil {
			return false, expt.Errorf(expt.EINVALID, "rollout %d: %v", i, err)
		}
	}
	w := &rolloutWriter{db: db, newNames: map[nameKey]int64{}, newPrompts: map[promptKey]int64{}}
	applied, err := db.appendBatch(ctx, experimentID, idemKey, func(tx *sql.Tx, pk int64) error {
		w.tx, w.exp = tx, pk
		return w.write(ctx, experimentID, batch, msgs)
	})
	if err != nil {
		return false, err
	}
	db.cache.mu.Lock()
	for k, id := range w.newNames {
		db.cache.rewards[k] = id
	}
	for k, id := range w.newPrompts {
		db.cache.prompts[k] = id
	}
	db.cache.mu.Unlock()
	return applied, nil
}

// messagesJSON is the stored form of messages: a JSON array of each
// message's raw object, so extra keys survive byte for byte.
func messagesJSON(ms []expt.Message) (string, error) {
	var b strings.Builder
	b.WriteByte('[')
	for i, m := range ms {
		if i > 0 {
			b.WriteByte(',')
		}
		raw := m.Raw
		if len(raw) == 0 {
			var err error
			if raw, err = json.Marshal(map[string]string{"role": m.Role, "content": m.Content}); err != nil {
				return "", fmt.Errorf("message %d: %w", i, err)
			}
		} else if !json.Valid(raw) {
			return "", fmt.Errorf("message %d is not valid JSON", i)
		}
		b.Write(raw)
	}
	b.WriteByte(']')
	return b.String(), nil
}

// rolloutWriter holds one WriteRollouts transaction's state.
type rolloutWriter struct {
	db         *DB
	tx         *sql.Tx
	exp        int64
	newNames   map[nameKey]int64
	newPrompts map[promptKey]int64
}

type stepKey struct {
	mode string
	step int64
}

type stepRewardKey struct {
	stepKey
	name int64
}

// Rows go in with multi-row INSERTs of up to this many rows: one statement
// per row costs more in driver round trips than SQLite spends storing it.
const rowsPerInsert = 100

// groupRow keys a group: its prompt is the group prompt id (see promptID).
type groupRow struct {
	mode         string
	step, prompt int64
}

type groupRewardKey struct {
	groupRow
	name int64
}

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
	counts := map[stepKey]int64{}
	sums := map[stepRewardKey]*expt.RewardSums{}
	groups := map[groupRow]int64{}
	groupSums := map[groupRewardKey]*expt.RewardMoments{}
	latest := int64(-1)
	rolloutArgs := make([]any, 0, 9*len(batch))
	ftsArgs := make([]any, 0, 3*len(batch))
	rewardArgs := make([]any, 0, 3*3*len(batch))
	var body strings.Builder
	var names []int64
	var values []float64
	for i, r := range batch {
		promptID, groupID, err := w.promptID(ctx, r.Prompt, r.PromptRaw)
		if err != nil {
			return err
		}
		lastID++
		r.ID = lastID
		r.ExperimentID, r.CreatedAt = experimentID, created
		rolloutArgs = append(rolloutArgs, r.ID, w.exp, r.Step, r.Mode, promptID, msgs[i], r.TS, createdNs, sql.NullString{String: r.ClientID, Valid: r.ClientID != ""})
		body.Reset()
		for _, m := range r.Messages {
			body.WriteString(m.Content)
			body.WriteByte('\n')
		}
		ftsArgs = append(ftsArgs, r.ID, r.Prompt, body.String())
		sk := stepKey{r.Mode, r.Step}
		counts[sk]++
		gk := groupRow{r.Mode, r.Step, groupID}
		groups[gk]++
		latest = max(latest, r.Step)
		// A name logged twice in one rollout keeps its last value, in the
		// order names first appear.
		names, values = names[:0], values[:0]
		for _, rw := range r.Rewards {
			nid, err := w.rewardNameID(ctx, rw.Name)
			if err != nil {
				return err
			}
			j := slices.Index(names, nid)
			if j < 0 {
				names, values = append(names, nid), append(values, rw.Value)
			} else {
				values[j] = rw.Value
			}
		}
		for j, nid := range names {
			v := values[j]
			rewardArgs = append(rewardArgs, r.ID, nid, nullable(v))
			k := stepRewardKey{sk, nid}
			s := sums[k]
			if s == nil {
				s = &expt.RewardSums{}
				sums[k] = s
			}
			s.Add(v)
			gr := groupRewardKey{gk, nid}
			g := groupSums[gr]
			if g == nil {
				g = &expt.RewardMoments{}
				groupSums[gr] = g
			}
			g.Add(v)
		}
	}
	if err := w.multiInsert(ctx, "insert rollout", `INSERT INTO rollouts(id, experiment, step, mode, prompt_id, messages, ts, created_at, client_id) VALUES `, "", 9, rolloutArgs); err != nil {
		return err
	}
	if err := w.multiInsert(ctx, "insert reward", `INSERT INTO rewards(rollout_id, name_id, value) VALUES `, "", 3, rewardArgs); err != nil {
		return err
	}
	if err := w.upsertStepStats(ctx, counts, sums); err != nil {
		return err
	}
	if err := w.upsertGroupStats(ctx, groups, groupSums); err != nil {
		return err
	}
	if err := touchExperiment(ctx, w.tx, w.exp, latest); err != nil {
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

func (w *rolloutWriter) upsertGroupStats(ctx context.Context, groups map[groupRow]int64, sums map[groupRewardKey]*expt.RewardMoments) error {
	args := make([]any, 0, 5*len(groups))
	for k, n := range groups {
		args = append(args, w.exp, k.step, k.prompt, k.mode, n)
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
		args = append(args, w.exp, k.step, k.prompt, k.mode, k.name, s.Count, s.NaNs, nullable(s.Sum), nullable(s.Mean), nullable(s.M2), lo, hi)
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

func (w *rolloutWriter) upsertStepStats(ctx context.Context, counts map[stepKey]int64, sums map[stepRewardKey]*expt.RewardSums) error {
	for k, n := range counts {
		if _, err := w.tx.ExecContext(ctx, `INSERT INTO step_counts(experiment, mode, step, count) VALUES (?, ?, ?, ?)
			ON CONFLICT DO UPDATE SET count = count + excluded.count`, w.exp, k.mode, k.step, n); err != nil {
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
			w.exp, k.mode, k.step, k.name, s.Count, s.NaNs, s.Sum, s.SumSq, lo, hi); err != nil {
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

// promptID returns the id of the prompt (text, raw), stored if new, and
// the id of its group's prompt: the experiment's first prompt with the
// same text, since a group is keyed by text alone.
func (w *rolloutWriter) promptID(ctx context.Context, text string, raw json.RawMessage) (id, group int64, err error) {
	k := promptKey{w.exp, text, string(raw)}
	gk := promptKey{w.exp, text, groupMarker}
	id, ok := w.newPrompts[k]
	group, gok := w.newPrompts[gk]
	if ok && gok {
		return id, group, nil
	}
	w.db.cache.mu.Lock()
	if !ok {
		id, ok = w.db.cache.prompts[k]
	}
	if !gok {
		group, gok = w.db.cache.prompts[gk]
	}
	w.db.cache.mu.Unlock()
	if ok && gok {
		return id, group, nil
	}
	h := textHash(text)
	rows, err := w.tx.QueryContext(ctx, `SELECT id, raw FROM prompts WHERE experiment = ? AND text_hash = ? AND text = ? ORDER BY id`, w.exp, h, text)
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
		if err := w.tx.QueryRowContext(ctx, `INSERT INTO prompts(experiment, text_hash, text, raw) VALUES (?, ?, ?, ?) RETURNING id`,
			w.exp, h, text, rawArg).Scan(&id); err != nil {
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
	k := nameKey{w.exp, name}
	if id, ok := w.newNames[k]; ok {
		return id, nil
	}
	w.db.cache.mu.Lock()
	id, ok := w.db.cache.rewards[k]
	w.db.cache.mu.Unlock()
	if ok {
		return id, nil
	}
	if err := w.tx.QueryRowContext(ctx, `INSERT INTO reward_names(experiment, name) VALUES (?, ?)
		ON CONFLICT(experiment, name) DO UPDATE SET name = excluded.name RETURNING id`, w.exp, name).Scan(&id); err != nil {
		return 0, fmt.Errorf("reward name id: %w", err)
	}
	w.newNames[k] = id
	return id, nil
}
