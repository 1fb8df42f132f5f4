package postgres

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/expt-logger/expt"
)

// The full-text index covers this much of each rollout's prompt and
// messages (characters): a tsvector must stay under 1 MB, and a batch must
// not fail because one completion is huge. Words past it are not found.
const (
	searchPromptChars = 50_000
	searchBodyChars   = 150_000
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
	var w *rolloutWriter
	applied, err := db.appendBatch(ctx, experimentID, idemKey, func(tx pgx.Tx, pk int64) error {
		w = &rolloutWriter{db: db, tx: tx, exp: pk, newNames: map[nameKey]int64{}, newPrompts: map[promptKey]int64{}}
		return w.write(ctx, experimentID, batch, msgs)
	})
	if err != nil || w == nil {
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
	tx         pgx.Tx
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

// groupRow keys a group: its prompt is the prompt row of its text.
type groupRow struct {
	mode         string
	step, prompt int64
}

type groupRewardKey struct {
	groupRow
	name int64
}

// minMax is a summary's min and max, NaN (stored as NULL) when it saw no number.
func minMax(count int64, lo, hi float64) (float64, float64) {
	if count == 0 {
		return math.NaN(), math.NaN()
	}
	return lo, hi
}

func (w *rolloutWriter) write(ctx context.Context, experimentID string, batch []*expt.Rollout, msgs []string) error {
	promptIDs, err := w.promptIDs(ctx, batch)
	if err != nil {
		return err
	}
	nameIDs, err := w.rewardNameIDs(ctx, batch)
	if err != nil {
		return err
	}
	rows, err := w.tx.Query(ctx, `SELECT nextval('rollouts_id_seq') FROM generate_series(1, $1)`, len(batch))
	if err != nil {
		return fmt.Errorf("rollout ids: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return fmt.Errorf("rollout ids: %w", err)
	}
	slices.Sort(ids) // logging order is id order

	created := now()
	n := len(batch)
	var (
		steps           = make([]int64, n)
		modes           = make([]string, n)
		prompts         = make([]int64, n)
		raws            = make([]*string, n)
		texts, bodies   = make([]string, n), make([]string, n)
		tss             = make([]float64, n)
		clientIDs       = make([]*string, n)
		wRollout, wName []int64
		wValue          []float64
		body            strings.Builder
		names           []int64
		values          []float64
		latest          = int64(-1)
		counts          = map[stepKey]int64{}
		sums            = map[stepRewardKey]*expt.RewardSums{}
		groups          = map[groupRow]int64{}
		groupSums       = map[groupRewardKey]*expt.RewardMoments{}
	)
	for i, r := range batch {
		r.ID, r.ExperimentID, r.CreatedAt = ids[i], experimentID, created
		steps[i], modes[i], tss[i] = r.Step, r.Mode, r.TS
		prompts[i] = promptIDs[promptSHA(r.Prompt)]
		if r.PromptRaw != nil {
			s := string(r.PromptRaw)
			raws[i] = &s
		}
		if r.ClientID != "" {
			clientIDs[i] = &r.ClientID
		}
		texts[i] = r.Prompt
		body.Reset()
		for _, m := range r.Messages {
			body.WriteString(m.Content)
			body.WriteByte('\n')
		}
		bodies[i] = body.String()
		latest = max(latest, r.Step)
		sk := stepKey{r.Mode, r.Step}
		counts[sk]++
		gk := groupRow{r.Mode, r.Step, prompts[i]}
		groups[gk]++
		// A name logged twice in one rollout keeps its last value.
		names, values = names[:0], values[:0]
		for _, rw := range r.Rewards {
			nid := nameIDs[rw.Name]
			if j := slices.Index(names, nid); j >= 0 {
				values[j] = rw.Value
			} else {
				names, values = append(names, nid), append(values, rw.Value)
			}
		}
		for j, nid := range names {
			v := values[j]
			wRollout, wName, wValue = append(wRollout, r.ID), append(wName, nid), append(wValue, v)
			k := stepRewardKey{sk, nid}
			if sums[k] == nil {
				sums[k] = &expt.RewardSums{}
			}
			sums[k].Add(v)
			gr := groupRewardKey{gk, nid}
			if groupSums[gr] == nil {
				groupSums[gr] = &expt.RewardMoments{}
			}
			groupSums[gr].Add(v)
		}
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO rollouts(id, experiment, step, mode, prompt_id, prompt_raw, messages, ts, created_at, client_id, search)
		SELECT id, $1, step, mode, prompt, raw, msgs, ts, $2, client,
			to_tsvector('simple', left(text, $3)) || to_tsvector('simple', left(body, $4))
		FROM unnest($5::bigint[], $6::bigint[], $7::text[], $8::bigint[], $9::text[], $10::text[], $11::float8[], $12::text[], $13::text[], $14::text[])
			AS x(id, step, mode, prompt, raw, msgs, ts, client, text, body)`,
		w.exp, created, searchPromptChars, searchBodyChars, ids, steps, modes, prompts, raws, msgs, tss, clientIDs, texts, bodies)
	b.Queue(`INSERT INTO rewards(rollout_id, name_id, value) SELECT r, n, NULLIF(v, 'NaN') FROM unnest($1::bigint[], $2::bigint[], $3::float8[]) AS x(r, n, v)`,
		wRollout, wName, wValue)
	w.queueStepStats(b, counts, sums)
	w.queueGroupStats(b, groups, groupSums)
	b.Queue(touchSQL, now(), latest, w.exp)
	if err := w.tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("insert rollouts: %w", err)
	}
	return nil
}

// queueStepStats adds the per-step count and reward upserts, in key order
// so that concurrent batches lock the rows in one order.
func (w *rolloutWriter) queueStepStats(b *pgx.Batch, counts map[stepKey]int64, sums map[stepRewardKey]*expt.RewardSums) {
	keys := sortedKeys(counts, func(a, b stepKey) int { return cmp.Or(cmp.Compare(a.mode, b.mode), cmp.Compare(a.step, b.step)) })
	modes, steps, ns := make([]string, len(keys)), make([]int64, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		modes[i], steps[i], ns[i] = k.mode, k.step, counts[k]
	}
	b.Queue(`INSERT INTO step_counts AS c (experiment, mode, step, count) SELECT $1, m, s, n FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS x(m, s, n)
		ON CONFLICT (experiment, mode, step) DO UPDATE SET count = c.count + excluded.count`, w.exp, modes, steps, ns)

	rkeys := sortedKeys(sums, func(a, b stepRewardKey) int {
		return cmp.Or(cmp.Compare(a.mode, b.mode), cmp.Compare(a.step, b.step), cmp.Compare(a.name, b.name))
	})
	m := len(rkeys)
	var (
		rm                  = make([]string, m)
		rs, rn, rc, rnans   = make([]int64, m), make([]int64, m), make([]int64, m), make([]int64, m)
		rsum, rsq, rlo, rhi = make([]float64, m), make([]float64, m), make([]float64, m), make([]float64, m)
	)
	for i, k := range rkeys {
		s := sums[k]
		rm[i], rs[i], rn[i], rc[i], rnans[i], rsum[i], rsq[i] = k.mode, k.step, k.name, s.Count, s.NaNs, s.Sum, s.SumSq
		rlo[i], rhi[i] = minMax(s.Count, s.Min, s.Max)
	}
	// least/greatest ignore NULL, which is what "no number yet" needs.
	b.Queue(`INSERT INTO step_rewards AS r (experiment, mode, step, name_id, count, nans, sum, sumsq, min, max)
		SELECT $1, m, s, n, c, na, su, sq, NULLIF(lo, 'NaN'), NULLIF(hi, 'NaN')
		FROM unnest($2::text[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::float8[], $8::float8[], $9::float8[], $10::float8[])
			AS x(m, s, n, c, na, su, sq, lo, hi)
		ON CONFLICT (experiment, mode, step, name_id) DO UPDATE SET
			count = r.count + excluded.count, nans = r.nans + excluded.nans,
			sum = r.sum + excluded.sum, sumsq = r.sumsq + excluded.sumsq,
			min = least(r.min, excluded.min), max = greatest(r.max, excluded.max)`,
		w.exp, rm, rs, rn, rc, rnans, rsum, rsq, rlo, rhi)
}

func (w *rolloutWriter) queueGroupStats(b *pgx.Batch, groups map[groupRow]int64, sums map[groupRewardKey]*expt.RewardMoments) {
	cmpGroup := func(a, b groupRow) int {
		return cmp.Or(cmp.Compare(a.step, b.step), cmp.Compare(a.prompt, b.prompt), cmp.Compare(a.mode, b.mode))
	}
	keys := sortedKeys(groups, cmpGroup)
	steps, prompts, modes, ns := make([]int64, len(keys)), make([]int64, len(keys)), make([]string, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		steps[i], prompts[i], modes[i], ns[i] = k.step, k.prompt, k.mode, groups[k]
	}
	b.Queue(`INSERT INTO rollout_groups AS g (experiment, step, prompt_id, mode, count)
		SELECT $1, s, p, m, n FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::bigint[]) AS x(s, p, m, n)
		ON CONFLICT (experiment, step, prompt_id, mode) DO UPDATE SET count = g.count + excluded.count`, w.exp, steps, prompts, modes, ns)

	rkeys := sortedKeys(sums, func(a, b groupRewardKey) int {
		return cmp.Or(cmpGroup(a.groupRow, b.groupRow), cmp.Compare(a.name, b.name))
	})
	m := len(rkeys)
	var (
		gs, gp, gn, gc, gnans = make([]int64, m), make([]int64, m), make([]int64, m), make([]int64, m), make([]int64, m)
		gm                    = make([]string, m)
		gsum, gmean, gm2      = make([]float64, m), make([]float64, m), make([]float64, m)
		glo, ghi              = make([]float64, m), make([]float64, m)
	)
	for i, k := range rkeys {
		s := sums[k]
		gs[i], gp[i], gm[i], gn[i], gc[i], gnans[i] = k.step, k.prompt, k.mode, k.name, s.Count, s.NaNs
		gsum[i], gmean[i], gm2[i] = s.Sum, s.Mean, s.M2
		glo[i], ghi[i] = minMax(s.Count, s.Min, s.Max)
	}
	// Merging (Chan et al.): delta = mean_b - mean_a, mean += delta*n_b/n,
	// m2 += m2_b + delta²*n_a*n_b/n. NaN (from infinities) is stored as is.
	b.Queue(`INSERT INTO group_rewards AS g (experiment, step, prompt_id, mode, name_id, count, nans, sum, mean, m2, min, max)
		SELECT $1, s, p, m, n, c, na, su, me, m2, NULLIF(lo, 'NaN'), NULLIF(hi, 'NaN')
		FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::float8[], $9::float8[], $10::float8[], $11::float8[], $12::float8[])
			AS x(s, p, m, n, c, na, su, me, m2, lo, hi)
		ON CONFLICT (experiment, step, prompt_id, mode, name_id) DO UPDATE SET
			count = g.count + excluded.count, nans = g.nans + excluded.nans,
			sum = g.sum + excluded.sum,
			mean = CASE WHEN excluded.count = 0 THEN g.mean WHEN g.count = 0 THEN excluded.mean
				ELSE g.mean + (excluded.mean - g.mean) * excluded.count / (g.count + excluded.count) END,
			m2 = CASE WHEN excluded.count = 0 THEN g.m2 WHEN g.count = 0 THEN excluded.m2
				ELSE g.m2 + excluded.m2 + (excluded.mean - g.mean) * (excluded.mean - g.mean) * g.count * excluded.count / (g.count + excluded.count) END,
			min = least(g.min, excluded.min), max = greatest(g.max, excluded.max)`,
		w.exp, gs, gp, gm, gn, gc, gnans, gsum, gmean, gm2, glo, ghi)
}

func sortedKeys[K comparable, V any](m map[K]V, cmp func(a, b K) int) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp)
	return keys
}

// promptSHA keys a prompt text in a fixed-size unique index whatever its length.
func promptSHA(text string) string {
	h := sha256.Sum256([]byte(text))
	return string(h[:])
}

// promptIDs returns the prompt row id of every prompt text of the batch,
// by promptSHA, inserting the new ones. ON CONFLICT DO NOTHING on the
// unique (experiment, text_sha) makes replicas that insert the same text
// at once agree on one row: the loser waits for the winner's commit, then
// the SELECT (a later statement, a newer snapshot) finds its row.
func (w *rolloutWriter) promptIDs(ctx context.Context, batch []*expt.Rollout) (map[string]int64, error) {
	ids := map[string]int64{}
	var missing []string
	texts := map[string]string{}
	w.db.cache.mu.Lock()
	for _, r := range batch {
		sha := promptSHA(r.Prompt)
		if _, ok := ids[sha]; ok {
			continue
		}
		if id, ok := w.db.cache.prompts[promptKey{w.exp, sha}]; ok {
			ids[sha] = id
		} else {
			ids[sha] = 0
			missing = append(missing, sha)
			texts[sha] = r.Prompt
		}
	}
	w.db.cache.mu.Unlock()
	if len(missing) == 0 {
		return ids, nil
	}
	slices.Sort(missing)
	shas, ts := make([][]byte, len(missing)), make([]string, len(missing))
	for i, sha := range missing {
		shas[i], ts[i] = []byte(sha), texts[sha]
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO prompts(experiment, text_sha, text) SELECT $1, h, t FROM unnest($2::bytea[], $3::text[]) AS x(h, t)
		ON CONFLICT (experiment, text_sha) DO NOTHING`, w.exp, shas, ts)
	b.Queue(`SELECT id, text_sha FROM prompts WHERE experiment = $1 AND text_sha = ANY($2)`, w.exp, shas).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var id int64
			var sha []byte
			if err := rows.Scan(&id, &sha); err != nil {
				return err
			}
			ids[string(sha)] = id
			w.newPrompts[promptKey{w.exp, string(sha)}] = id
		}
		return rows.Err()
	})
	if err := w.tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("prompt ids: %w", err)
	}
	for _, sha := range missing {
		if ids[sha] == 0 {
			return nil, fmt.Errorf("prompt was not stored")
		}
	}
	return ids, nil
}

// rewardNameIDs returns the id of every reward name of the batch, inserting
// the new ones the way promptIDs does.
func (w *rolloutWriter) rewardNameIDs(ctx context.Context, batch []*expt.Rollout) (map[string]int64, error) {
	ids := map[string]int64{}
	var missing []string
	w.db.cache.mu.Lock()
	for _, r := range batch {
		for _, rw := range r.Rewards {
			if _, ok := ids[rw.Name]; ok {
				continue
			}
			if id, ok := w.db.cache.rewards[nameKey{w.exp, rw.Name}]; ok {
				ids[rw.Name] = id
			} else {
				ids[rw.Name] = 0
				missing = append(missing, rw.Name)
			}
		}
	}
	w.db.cache.mu.Unlock()
	if len(missing) == 0 {
		return ids, nil
	}
	// In order of first appearance, not sorted: rewards read back in id
	// order, which is the order they were first logged in, as in SQLite.
	// Two batches adding the same new names in opposite orders may
	// deadlock; PostgreSQL aborts one and tx retries it.
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO reward_names(experiment, name) SELECT $1, n FROM unnest($2::text[]) WITH ORDINALITY AS x(n, i)
		ORDER BY i ON CONFLICT (experiment, name) DO NOTHING`, w.exp, missing)
	b.Queue(`SELECT id, name FROM reward_names WHERE experiment = $1 AND name = ANY($2)`, w.exp, missing).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				return err
			}
			ids[name] = id
			w.newNames[nameKey{w.exp, name}] = id
		}
		return rows.Err()
	})
	if err := w.tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("reward name ids: %w", err)
	}
	for _, name := range missing {
		if ids[name] == 0 {
			return nil, fmt.Errorf("reward name %q was not stored", name)
		}
	}
	return ids, nil
}
