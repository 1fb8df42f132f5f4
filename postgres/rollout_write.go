package postgres

import (
	"cmp"
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
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
	if err := expt.CheckRollouts(batch); err != nil {
		return false, err
	}
	msgs := storekit.BatchMessages(batch)
	var w *rolloutWriter
	applied, err := db.appendBatch(ctx, experimentID, idemKey, func(tx pgx.Tx, pk int64) error {
		w = &rolloutWriter{db: db, tx: tx, exp: pk, newNames: storekit.Pending[string]{}, newPrompts: storekit.Pending[string]{}}
		return w.write(ctx, experimentID, batch, msgs)
	})
	if err != nil || w == nil {
		return false, err
	}
	db.cache.rewards.Put(w.exp, w.newNames)
	db.cache.prompts.Put(w.exp, w.newPrompts)
	return applied, nil
}

// rolloutWriter holds one WriteRollouts transaction's state.
type rolloutWriter struct {
	db         *DB
	tx         pgx.Tx
	exp        int64
	newNames   storekit.Pending[string]
	newPrompts storekit.Pending[string] // by promptSHA
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
		steps         = make([]int64, n)
		modes         = make([]string, n)
		prompts       = make([]int64, n)
		raws          = make([]*string, n)
		texts, bodies = make([]string, n), make([]string, n)
		tss           = make([]float64, n)
		clientIDs     = make([]*string, n)
		metas         = make([]*string, n)
		body          strings.Builder
		stats         = storekit.NewBatchStats(n)
	)
	nameID := func(name string) (int64, error) { return nameIDs[name], nil }
	for i, r := range batch {
		r.ID, r.ExperimentID, r.CreatedAt = ids[i], experimentID, created
		steps[i], modes[i], tss[i] = r.Step, r.Mode, r.TS
		prompts[i] = promptIDs[promptKey(r)]
		if r.PromptRaw != nil {
			s := string(r.PromptRaw)
			raws[i] = &s
		}
		if r.ClientID != "" {
			clientIDs[i] = &r.ClientID
		}
		if r.Metadata != nil {
			s := string(r.Metadata)
			metas[i] = &s
		}
		texts[i] = r.Prompt
		bodies[i] = storekit.SearchBody(&body, r.Messages)
		// A group is keyed by the prompt row of its text.
		if err := stats.Add(r, prompts[i], nameID); err != nil {
			return err
		}
	}
	b := &pgx.Batch{}
	if textBytes(msgs)+textBytes(bodies) > copyAbove {
		// A large batch goes through COPY into a temporary table: pgx
		// encodes a text[] parameter by appending to one growing buffer
		// and then copies it into the message, which cost about ten times
		// the batch's text in garbage (a 16 MB batch peaked near 400 MB);
		// COPY streams the rows.
		if _, err := w.tx.Exec(ctx, `CREATE TEMP TABLE IF NOT EXISTS rollouts_in (id bigint, step bigint, mode text, prompt bigint, raw text,
			msgs text, ts float8, client text, text text, body text, meta text) ON COMMIT DELETE ROWS`); err != nil {
			return fmt.Errorf("rollout staging table: %w", err)
		}
		_, err := w.tx.CopyFrom(ctx, pgx.Identifier{"rollouts_in"}, []string{"id", "step", "mode", "prompt", "raw", "msgs", "ts", "client", "text", "body", "meta"},
			pgx.CopyFromSlice(n, func(i int) ([]any, error) {
				return []any{ids[i], steps[i], modes[i], prompts[i], raws[i], msgs[i], tss[i], clientIDs[i], texts[i], bodies[i], metas[i]}, nil
			}))
		if err != nil {
			return fmt.Errorf("copy rollouts: %w", err)
		}
		b.Queue(`INSERT INTO rollouts(id, experiment, step, mode, prompt_id, prompt_raw, messages, ts, created_at, client_id, metadata, search)
			SELECT id, $1, step, mode, prompt, raw, msgs, ts, $2, client, meta,
				to_tsvector('simple', left(text, $3)) || to_tsvector('simple', left(body, $4))
			FROM rollouts_in ORDER BY id`, w.exp, created, searchPromptChars, searchBodyChars)
	} else {
		b.Queue(`INSERT INTO rollouts(id, experiment, step, mode, prompt_id, prompt_raw, messages, ts, created_at, client_id, metadata, search)
			SELECT id, $1, step, mode, prompt, raw, msgs, ts, $2, client, meta,
				to_tsvector('simple', left(text, $3)) || to_tsvector('simple', left(body, $4))
			FROM unnest($5::bigint[], $6::bigint[], $7::text[], $8::bigint[], $9::text[], $10::text[], $11::float8[], $12::text[], $13::text[], $14::text[], $15::text[])
				AS x(id, step, mode, prompt, raw, msgs, ts, client, text, body, meta)`,
			w.exp, created, searchPromptChars, searchBodyChars, ids, steps, modes, prompts, raws, msgs, tss, clientIDs, texts, bodies, metas)
	}
	b.Queue(`INSERT INTO rewards(rollout_id, name_id, value) SELECT r, n, NULLIF(v, 'NaN') FROM unnest($1::bigint[], $2::bigint[], $3::float8[]) AS x(r, n, v)`,
		stats.Rewards.Rollout, stats.Rewards.Name, stats.Rewards.Value)
	var tokenIDs, tokenCounts []int64
	var tokenData [][]byte
	for _, r := range batch {
		if d := storekit.EncodeTokens(r.Tokens); d != nil {
			r.TokenCount = expt.CountTokens(r.Tokens)
			tokenIDs, tokenData, tokenCounts = append(tokenIDs, r.ID), append(tokenData, d), append(tokenCounts, r.TokenCount)
		}
	}
	if len(tokenIDs) > 0 {
		b.Queue(`INSERT INTO rollout_tokens(rollout_id, data, tokens) SELECT * FROM unnest($1::bigint[], $2::bytea[], $3::bigint[])`, tokenIDs, tokenData, tokenCounts)
	}
	w.queueStepStats(b, stats.Steps, stats.StepSums)
	w.queueGroupStats(b, stats.Groups, stats.GroupSums)
	b.Queue(touchSQL, now(), stats.Latest, w.exp)
	if err := w.tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("insert rollouts: %w", err)
	}
	// After the step upserts, whose row locks keep this merge whole.
	return storekit.MergeSketches(ctx, conn{w.tx}, w.exp, stats)
}

// queueStepStats adds the per-step count and reward upserts, in key order
// so that concurrent batches lock the rows in one order.
func (w *rolloutWriter) queueStepStats(b *pgx.Batch, counts map[storekit.StepKey]int64, sums map[storekit.StepRewardKey]*storekit.RewardSums) {
	keys := sortedKeys(counts, func(a, b storekit.StepKey) int {
		return cmp.Or(cmp.Compare(a.Mode, b.Mode), cmp.Compare(a.Step, b.Step))
	})
	modes, steps, ns := make([]string, len(keys)), make([]int64, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		modes[i], steps[i], ns[i] = k.Mode, k.Step, counts[k]
	}
	b.Queue(`INSERT INTO step_counts AS c (experiment, mode, step, count) SELECT $1, m, s, n FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS x(m, s, n)
		ON CONFLICT (experiment, mode, step) DO UPDATE SET count = c.count + excluded.count`, w.exp, modes, steps, ns)

	rkeys := sortedKeys(sums, func(a, b storekit.StepRewardKey) int {
		return cmp.Or(cmp.Compare(a.Mode, b.Mode), cmp.Compare(a.Step, b.Step), cmp.Compare(a.Name, b.Name))
	})
	m := len(rkeys)
	var (
		rm                  = make([]string, m)
		rs, rn, rc, rnans   = make([]int64, m), make([]int64, m), make([]int64, m), make([]int64, m)
		rsum, rsq, rlo, rhi = make([]float64, m), make([]float64, m), make([]float64, m), make([]float64, m)
	)
	for i, k := range rkeys {
		s := sums[k]
		rm[i], rs[i], rn[i], rc[i], rnans[i], rsum[i], rsq[i] = k.Mode, k.Step, k.Name, s.Count, s.NaNs, s.Sum, s.SumSq
		rlo[i], rhi[i] = storekit.MinMax(s.Count, s.Min, s.Max)
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

func (w *rolloutWriter) queueGroupStats(b *pgx.Batch, groups map[storekit.GroupKey]int64, sums map[storekit.GroupRewardKey]*storekit.RewardMoments) {
	cmpGroup := func(a, b storekit.GroupKey) int {
		return cmp.Or(cmp.Compare(a.Step, b.Step), cmp.Compare(a.Prompt, b.Prompt), cmp.Compare(a.Mode, b.Mode))
	}
	keys := sortedKeys(groups, cmpGroup)
	steps, prompts, modes, ns := make([]int64, len(keys)), make([]int64, len(keys)), make([]string, len(keys)), make([]int64, len(keys))
	for i, k := range keys {
		steps[i], prompts[i], modes[i], ns[i] = k.Step, k.Prompt, k.Mode, groups[k]
	}
	b.Queue(`INSERT INTO rollout_groups AS g (experiment, step, prompt_id, mode, count)
		SELECT $1, s, p, m, n FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::bigint[]) AS x(s, p, m, n)
		ON CONFLICT (experiment, step, prompt_id, mode) DO UPDATE SET count = g.count + excluded.count`, w.exp, steps, prompts, modes, ns)

	rkeys := sortedKeys(sums, func(a, b storekit.GroupRewardKey) int {
		return cmp.Or(cmpGroup(a.GroupKey, b.GroupKey), cmp.Compare(a.Name, b.Name))
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
		gs[i], gp[i], gm[i], gn[i], gc[i], gnans[i] = k.Step, k.Prompt, k.Mode, k.Name, s.Count, s.NaNs
		gsum[i], gmean[i], gm2[i] = s.Sum, s.Mean, s.M2
		glo[i], ghi[i] = storekit.MinMax(s.Count, s.Min, s.Max)
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

// promptKey keys a prompt row: its text's promptSHA (a fixed 32 bytes)
// followed by its explicit group id ("" for none).
func promptKey(r *expt.Rollout) string { return promptSHA(r.Prompt) + r.Group }

// promptIDs returns the prompt row id of every (prompt text, group id) of
// the batch, by promptKey, inserting the new ones. ON CONFLICT DO NOTHING
// on the unique (experiment, text_sha, grp) makes replicas that insert the
// same prompt at once agree on one row: the loser waits for the winner's
// commit, then the SELECT (a later statement, a newer snapshot) finds its row.
func (w *rolloutWriter) promptIDs(ctx context.Context, batch []*expt.Rollout) (map[string]int64, error) {
	ids := map[string]int64{}
	var missing []string
	rows := map[string]*expt.Rollout{}
	for _, r := range batch {
		k := promptKey(r)
		if _, ok := ids[k]; ok {
			continue
		}
		if id, ok := w.db.cache.prompts.Get(w.exp, k); ok {
			ids[k] = id
		} else {
			ids[k] = 0
			missing = append(missing, k)
			rows[k] = r
		}
	}
	if len(missing) == 0 {
		return ids, nil
	}
	slices.Sort(missing)
	shas, ts, gs := make([][]byte, len(missing)), make([]string, len(missing)), make([]string, len(missing))
	for i, k := range missing {
		shas[i], ts[i], gs[i] = []byte(k[:sha256.Size]), rows[k].Prompt, rows[k].Group
	}
	b := &pgx.Batch{}
	b.Queue(`INSERT INTO prompts(experiment, text_sha, text, grp) SELECT $1, h, t, g FROM unnest($2::bytea[], $3::text[], $4::text[]) AS x(h, t, g)
		ON CONFLICT (experiment, text_sha, grp) DO NOTHING`, w.exp, shas, ts, gs)
	b.Queue(`SELECT p.id, p.text_sha, p.grp FROM prompts p JOIN unnest($2::bytea[], $3::text[]) AS x(h, g) ON p.text_sha = x.h AND p.grp = x.g
		WHERE p.experiment = $1`, w.exp, shas, gs).Query(func(rows pgx.Rows) error {
		for rows.Next() {
			var id int64
			var sha []byte
			var grp string
			if err := rows.Scan(&id, &sha, &grp); err != nil {
				return err
			}
			k := string(sha) + grp
			ids[k] = id
			w.newPrompts[k] = id
		}
		return rows.Err()
	})
	if err := w.tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, fmt.Errorf("prompt ids: %w", err)
	}
	for _, k := range missing {
		if ids[k] == 0 {
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
	for _, r := range batch {
		for _, rw := range r.Rewards {
			if _, ok := ids[rw.Name]; ok {
				continue
			}
			if id, ok := w.db.cache.rewards.Get(w.exp, rw.Name); ok {
				ids[rw.Name] = id
			} else {
				ids[rw.Name] = 0
				missing = append(missing, rw.Name)
			}
		}
	}
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
			w.newNames[name] = id
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

// copyAbove is the text a batch carries (messages and search bodies) past
// which it is written through COPY rather than one statement of arrays.
const copyAbove = 1 << 20

func textBytes(list []string) int {
	n := 0
	for _, s := range list {
		n += len(s)
	}
	return n
}
