package storekit

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/expt-logger/expt"
)

// MergeSketches folds a batch's reward values and response lengths into
// the sketches stored with its steps. It runs in the batch's transaction
// after the step tables' upserts, which hold those rows (PostgreSQL's row
// locks, SQLite's single writer), so reading, merging and writing back
// loses no concurrent batch's values. A step stored before sketches
// existed is rebuilt from its rollouts, which by now include the batch.
func MergeSketches(ctx context.Context, c Conn, exp int64, s *BatchStats) error {
	if len(s.Steps) == 0 {
		return nil
	}
	lo, hi := int64(0), int64(0)
	first := true
	for k := range s.Steps {
		if first || k.Step < lo {
			lo = k.Step
		}
		if first || k.Step > hi {
			hi = k.Step
		}
		first = false
	}
	if err := mergeRewardSketches(ctx, c, exp, s, lo, hi); err != nil {
		return err
	}
	return mergeLengthSketches(ctx, c, exp, s, lo, hi)
}

// sketchSet is one table's sketches that a batch touches, and how to
// read, rebuild and write one of them.
type sketchSet[K comparable] struct {
	what    string
	query   string // the rows of (key columns..., count, sketch) in the batch's step range
	args    []any
	scan    func(r Rows, k *K, count *int64, blob *[]byte) error
	values  map[K][]float64
	added   func(K) int64 // the count the batch added, to tell a legacy row
	rebuild func(K) (*Sketch, error)
	update  func(K, []byte) error
	cmp     func(a, b K) int
}

func (set sketchSet[K]) merge(ctx context.Context, c Conn) error {
	if len(set.values) == 0 {
		return nil
	}
	rows, err := c.Query(ctx, set.query, set.args...)
	if err != nil {
		return fmt.Errorf("select %s sketches: %w", set.what, err)
	}
	type stored struct {
		count int64
		blob  []byte
	}
	have := map[K]stored{}
	for rows.Next() {
		var k K
		var st stored
		if err := set.scan(rows, &k, &st.count, &st.blob); err != nil {
			rows.Close()
			return fmt.Errorf("scan %s sketch: %w", set.what, err)
		}
		if _, ok := set.values[k]; ok {
			have[k] = st
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("select %s sketches: %w", set.what, err)
	}
	// In key order, so that concurrent PostgreSQL writers lock alike.
	keys := make([]K, 0, len(set.values))
	for k := range set.values {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, set.cmp)
	for _, k := range keys {
		st := have[k]
		var sk *Sketch
		switch {
		case st.blob != nil:
			if sk, err = DecodeSketch(st.blob); err != nil {
				return fmt.Errorf("%s sketch: %w", set.what, err)
			}
			sk.Add(set.values[k])
		case st.count > set.added(k):
			// Values stored before sketches: rebuild from every stored value.
			if sk, err = set.rebuild(k); err != nil {
				return err
			}
		default:
			sk = &Sketch{}
			sk.Add(set.values[k])
		}
		if err := set.update(k, sk.Encode()); err != nil {
			return fmt.Errorf("update %s sketch: %w", set.what, err)
		}
	}
	return nil
}

func mergeRewardSketches(ctx context.Context, c Conn, exp int64, s *BatchStats, lo, hi int64) error {
	w := NewWhere(c.Dollar())
	return sketchSet[StepRewardKey]{
		what: "reward",
		query: `SELECT mode, step, name_id, count, sketch FROM step_rewards WHERE experiment = ` + w.Bind(exp) +
			` AND step >= ` + w.Bind(lo) + ` AND step <= ` + w.Bind(hi),
		args: w.Args,
		scan: func(r Rows, k *StepRewardKey, count *int64, blob *[]byte) error {
			return r.Scan(&k.Mode, &k.Step, &k.Name, count, blob)
		},
		values: s.Values,
		added:  func(k StepRewardKey) int64 { return s.StepSums[k].Count },
		rebuild: func(k StepRewardKey) (*Sketch, error) {
			built, err := rewardValues(ctx, c, exp, k.Mode, k.Name, k.Step, k.Step)
			return orEmpty(built[k.Step]), err
		},
		update: func(k StepRewardKey, b []byte) error {
			w := NewWhere(c.Dollar())
			_, err := c.Exec(ctx, `UPDATE step_rewards SET sketch = `+w.Bind(b)+` WHERE experiment = `+w.Bind(exp)+
				` AND mode = `+w.Bind(k.Mode)+` AND step = `+w.Bind(k.Step)+` AND name_id = `+w.Bind(k.Name), w.Args...)
			return err
		},
		cmp: func(a, b StepRewardKey) int {
			return cmp.Or(cmp.Compare(a.Mode, b.Mode), cmp.Compare(a.Step, b.Step), cmp.Compare(a.Name, b.Name))
		},
	}.merge(ctx, c)
}

func mergeLengthSketches(ctx context.Context, c Conn, exp int64, s *BatchStats, lo, hi int64) error {
	w := NewWhere(c.Dollar())
	return sketchSet[StepKey]{
		what: "length",
		query: `SELECT mode, step, count, lengths FROM step_counts WHERE experiment = ` + w.Bind(exp) +
			` AND step >= ` + w.Bind(lo) + ` AND step <= ` + w.Bind(hi),
		args: w.Args,
		scan: func(r Rows, k *StepKey, count *int64, blob *[]byte) error {
			return r.Scan(&k.Mode, &k.Step, count, blob)
		},
		values: s.Lengths,
		added:  func(k StepKey) int64 { return s.Steps[k] },
		rebuild: func(k StepKey) (*Sketch, error) {
			built, err := responseLengths(ctx, c, exp, k.Mode, k.Step, k.Step)
			return orEmpty(built[k.Step]), err
		},
		update: func(k StepKey, b []byte) error {
			w := NewWhere(c.Dollar())
			_, err := c.Exec(ctx, `UPDATE step_counts SET lengths = `+w.Bind(b)+` WHERE experiment = `+w.Bind(exp)+
				` AND mode = `+w.Bind(k.Mode)+` AND step = `+w.Bind(k.Step), w.Args...)
			return err
		},
		cmp: func(a, b StepKey) int { return cmp.Or(cmp.Compare(a.Mode, b.Mode), cmp.Compare(a.Step, b.Step)) },
	}.merge(ctx, c)
}

func orEmpty(s *Sketch) *Sketch {
	if s == nil {
		return &Sketch{}
	}
	return s
}

// rewardValues builds, from the stored rewards, the sketches of one reward
// over steps lo..hi of a mode: the path of data stored before sketches.
func rewardValues(ctx context.Context, c Conn, exp int64, mode string, nameID, lo, hi int64) (map[int64]*Sketch, error) {
	w := NewWhere(c.Dollar())
	rows, err := c.Query(ctx, `SELECT r.step, w.value FROM rewards w JOIN rollouts r ON r.id = w.rollout_id
		WHERE r.experiment = `+w.Bind(exp)+` AND r.mode = `+w.Bind(mode)+` AND w.name_id = `+w.Bind(nameID)+
		` AND r.step >= `+w.Bind(lo)+` AND r.step <= `+w.Bind(hi), w.Args...)
	if err != nil {
		return nil, fmt.Errorf("select stored rewards: %w", err)
	}
	defer rows.Close()
	values := map[int64][]float64{}
	for rows.Next() {
		var step int64
		var v *float64
		if err := rows.Scan(&step, &v); err != nil {
			return nil, fmt.Errorf("scan stored reward: %w", err)
		}
		values[step] = append(values[step], Value(v))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select stored rewards: %w", err)
	}
	return sketchesOf(values), nil
}

// responseLengths is rewardValues for the response length, from the stored messages.
func responseLengths(ctx context.Context, c Conn, exp int64, mode string, lo, hi int64) (map[int64]*Sketch, error) {
	w := NewWhere(c.Dollar())
	rows, err := c.Query(ctx, `SELECT step, messages FROM rollouts WHERE experiment = `+w.Bind(exp)+` AND mode = `+w.Bind(mode)+
		` AND step >= `+w.Bind(lo)+` AND step <= `+w.Bind(hi), w.Args...)
	if err != nil {
		return nil, fmt.Errorf("select stored messages: %w", err)
	}
	defer rows.Close()
	values := map[int64][]float64{}
	for rows.Next() {
		var step int64
		var msgs string
		if err := rows.Scan(&step, &msgs); err != nil {
			return nil, fmt.Errorf("scan stored messages: %w", err)
		}
		ms, err := DecodeMessages(msgs)
		if err != nil {
			return nil, fmt.Errorf("stored messages of step %d: %w", step, err)
		}
		values[step] = append(values[step], float64(expt.ResponseLength(ms)))
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select stored messages: %w", err)
	}
	return sketchesOf(values), nil
}

func sketchesOf(values map[int64][]float64) map[int64]*Sketch {
	out := make(map[int64]*Sketch, len(values))
	for step, vs := range values {
		sk := &Sketch{}
		sk.Add(vs)
		out[step] = sk
	}
	return out
}
