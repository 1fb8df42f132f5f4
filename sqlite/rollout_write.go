package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"strings"

	"github.com/expt-logger/expt"
)

var rewardOps = map[string]bool{"<": true, "<=": true, ">": true, ">=": true, "=": true, "!=": true}

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

type rewardSum struct {
	count, nans int64
	sum, sumsq  float64
	min, max    float64
	hasNum      bool
}

func (w *rolloutWriter) write(ctx context.Context, experimentID string, batch []*expt.Rollout, msgs []string) error {
	insRollout, err := w.tx.PrepareContext(ctx, `INSERT INTO rollouts(experiment, step, mode, prompt_id, messages, ts, created_at, client_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("prepare rollout insert: %w", err)
	}
	defer insRollout.Close()
	insReward, err := w.tx.PrepareContext(ctx, `INSERT INTO rewards(rollout_id, name_id, value) VALUES (?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("prepare reward insert: %w", err)
	}
	defer insReward.Close()
	insFTS, err := w.tx.PrepareContext(ctx, `INSERT INTO rollouts_fts(rowid, prompt, body) VALUES (?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("prepare fts insert: %w", err)
	}
	defer insFTS.Close()

	created := now()
	counts := map[stepKey]int64{}
	sums := map[stepRewardKey]*rewardSum{}
	latest := int64(-1)
	var body strings.Builder
	for i, r := range batch {
		promptID, err := w.promptID(ctx, r.Prompt, r.PromptRaw)
		if err != nil {
			return err
		}
		res, err := insRollout.ExecContext(ctx, w.exp, r.Step, r.Mode, promptID, msgs[i], r.TS, nanos(created), sql.NullString{String: r.ClientID, Valid: r.ClientID != ""})
		if err != nil {
			return fmt.Errorf("insert rollout: %w", err)
		}
		if r.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("rollout id: %w", err)
		}
		r.ExperimentID, r.CreatedAt = experimentID, created
		body.Reset()
		for _, m := range r.Messages {
			body.WriteString(m.Content)
			body.WriteByte('\n')
		}
		if _, err := insFTS.ExecContext(ctx, r.ID, r.Prompt, body.String()); err != nil {
			return fmt.Errorf("index rollout: %w", err)
		}
		sk := stepKey{r.Mode, r.Step}
		counts[sk]++
		latest = max(latest, r.Step)
		// A name logged twice in one rollout keeps its last value.
		last := map[string]float64{}
		var order []string
		for _, rw := range r.Rewards {
			if _, ok := last[rw.Name]; !ok {
				order = append(order, rw.Name)
			}
			last[rw.Name] = rw.Value
		}
		for _, name := range order {
			v := last[name]
			nid, err := w.rewardNameID(ctx, name)
			if err != nil {
				return err
			}
			if _, err := insReward.ExecContext(ctx, r.ID, nid, nullable(v)); err != nil {
				return fmt.Errorf("insert reward: %w", err)
			}
			k := stepRewardKey{sk, nid}
			s := sums[k]
			if s == nil {
				s = &rewardSum{}
				sums[k] = s
			}
			s.add(v)
		}
	}
	if err := w.upsertStepStats(ctx, counts, sums); err != nil {
		return err
	}
	return touchExperiment(ctx, w.tx, w.exp, latest)
}

func (s *rewardSum) add(v float64) {
	if math.IsNaN(v) {
		s.nans++
		return
	}
	s.count++
	s.sum += v
	s.sumsq += v * v
	if !s.hasNum || v < s.min {
		s.min = v
	}
	if !s.hasNum || v > s.max {
		s.max = v
	}
	s.hasNum = true
}

func (w *rolloutWriter) upsertStepStats(ctx context.Context, counts map[stepKey]int64, sums map[stepRewardKey]*rewardSum) error {
	for k, n := range counts {
		if _, err := w.tx.ExecContext(ctx, `INSERT INTO step_counts(experiment, mode, step, count) VALUES (?, ?, ?, ?)
			ON CONFLICT DO UPDATE SET count = count + excluded.count`, w.exp, k.mode, k.step, n); err != nil {
			return fmt.Errorf("upsert step count: %w", err)
		}
	}
	for k, s := range sums {
		var lo, hi any
		if s.hasNum {
			lo, hi = s.min, s.max
		}
		if _, err := w.tx.ExecContext(ctx, `INSERT INTO step_rewards(experiment, mode, step, name_id, count, nans, sum, sumsq, min, max)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO UPDATE SET
			count = count + excluded.count, nans = nans + excluded.nans,
			sum = sum + excluded.sum, sumsq = sumsq + excluded.sumsq,
			min = CASE WHEN min IS NULL THEN excluded.min WHEN excluded.min IS NULL THEN min ELSE min(min, excluded.min) END,
			max = CASE WHEN max IS NULL THEN excluded.max WHEN excluded.max IS NULL THEN max ELSE max(max, excluded.max) END`,
			w.exp, k.mode, k.step, k.name, s.count, s.nans, s.sum, s.sumsq, lo, hi); err != nil {
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

func (w *rolloutWriter) promptID(ctx context.Context, text string, raw json.RawMessage) (int64, error) {
	k := promptKey{w.exp, text, string(raw)}
	if id, ok := w.newPrompts[k]; ok {
		return id, nil
	}
	w.db.cache.mu.Lock()
	id, ok := w.db.cache.prompts[k]
	w.db.cache.mu.Unlock()
	if ok {
		return id, nil
	}
	var rawArg any
	if raw != nil {
		rawArg = string(raw)
	}
	h := textHash(text)
	err := w.tx.QueryRowContext(ctx, `SELECT id FROM prompts WHERE experiment = ? AND text_hash = ? AND text = ? AND raw IS ?`,
		w.exp, h, text, rawArg).Scan(&id)
	if err == sql.ErrNoRows {
		err = w.tx.QueryRowContext(ctx, `INSERT INTO prompts(experiment, text_hash, text, raw) VALUES (?, ?, ?, ?) RETURNING id`,
			w.exp, h, text, rawArg).Scan(&id)
	}
	if err != nil {
		return 0, fmt.Errorf("prompt id: %w", err)
	}
	w.newPrompts[k] = id
	return id, nil
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
