package storekit

import (
	"context"
	"fmt"
	"math"

	"github.com/expt-logger/expt"
)

// seriesRef is one series of an experiment.
type seriesRef struct {
	id         int64
	mode, name string
}

// Points pages an experiment's points in (mode, name, step) order. Each
// series is read by its primary key (series_id, step) from where the
// cursor left it, so a page costs its own points, never the ones before it.
func (s Common) Points(ctx context.Context, q expt.PointQuery) ([]expt.Scalar, bool, error) {
	if err := q.Check(); err != nil {
		return nil, false, err
	}
	pk, err := s.pk(ctx, q.ExperimentID)
	if err != nil {
		return nil, false, err
	}
	limit := q.Limit
	if limit == 0 {
		limit = expt.MaxPointPage
	}
	out := q.Buf[:0]
	if cap(out) <= limit {
		out = make([]expt.Scalar, 0, min(limit+1, 1<<16)) // room for the whole page and the one that tells more follow
	}
	more := false
	err = s.e.ReadTx(ctx, func(tx Conn) error {
		series, err := s.seriesOf(ctx, tx, pk, q)
		if err != nil {
			return err
		}
		for _, sr := range series {
			after := int64(-1)
			if q.After != nil && sr.mode == q.After.Mode && sr.name == q.After.Name {
				after = q.After.Step
			}
			if q.FromStep != nil && *q.FromStep-1 > after {
				after = *q.FromStep - 1
			}
			want := limit - len(out) + 1 // one more tells whether more follow
			if s.e.ReadPoints != nil {
				out, err = s.e.ReadPoints(ctx, tx, sr.id, after, q.ToStep, want, sr.mode, sr.name, out)
			} else {
				out, err = readPoints(ctx, tx, sr, after, q.ToStep, want, out)
			}
			if err != nil {
				return err
			}
			if len(out) > limit {
				out, more = out[:limit], true
				return nil
			}
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, more, nil
}

// seriesOf lists the series q reads, in (mode, name) order by bytes, from
// the cursor's series on.
func (s Common) seriesOf(ctx context.Context, tx Conn, pk int64, q expt.PointQuery) ([]seriesRef, error) {
	w := NewWhere(tx.Dollar())
	w.Add(`experiment = ` + w.Bind(pk))
	if q.Mode != "" {
		w.Add(`mode = ` + w.Bind(q.Mode))
	}
	if len(q.Keys) == 1 { // one series, by its unique key: not every series of the experiment
		w.Add(`mode = ` + w.Bind(q.Keys[0].Mode) + ` AND name = ` + w.Bind(q.Keys[0].Name))
	}
	c := s.e.Collate
	if q.After != nil {
		// Each placeholder is bound where it is used: SQLite's ? are positional.
		gt := `mode` + c + ` > ` + w.Bind(q.After.Mode)
		w.Add(`(` + gt + ` OR (mode = ` + w.Bind(q.After.Mode) + ` AND name` + c + ` >= ` + w.Bind(q.After.Name) + `))`)
	}
	rows, err := tx.Query(ctx, `SELECT id, mode, name FROM series WHERE `+w.SQL()+` ORDER BY mode`+c+`, name`+c, w.Args...)
	if err != nil {
		return nil, fmt.Errorf("select series: %w", err)
	}
	defer rows.Close()
	var keep map[expt.MetricKey]bool
	if len(q.Keys) > 0 {
		keep = make(map[expt.MetricKey]bool, len(q.Keys))
		for _, k := range q.Keys {
			keep[k] = true
		}
	}
	var out []seriesRef
	for rows.Next() {
		var sr seriesRef
		if err := rows.Scan(&sr.id, &sr.mode, &sr.name); err != nil {
			return nil, fmt.Errorf("scan series: %w", err)
		}
		if keep == nil || keep[expt.MetricKey{Mode: sr.mode, Name: sr.name}] {
			out = append(out, sr)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select series: %w", err)
	}
	return out, nil
}

// readPoints appends up to n points of one series with step > after (and
// at most to) to out.
func readPoints(ctx context.Context, tx Conn, sr seriesRef, after int64, to *int64, n int, out []expt.Scalar) ([]expt.Scalar, error) {
	w := NewWhere(tx.Dollar())
	w.Add(`series_id = ` + w.Bind(sr.id) + ` AND step > ` + w.Bind(after))
	if to != nil {
		w.Add(`step <= ` + w.Bind(*to))
	}
	rows, err := tx.Query(ctx, `SELECT step, value, ts FROM points WHERE `+w.SQL()+` ORDER BY step LIMIT `+w.Bind(n), w.Args...)
	if err != nil {
		return out, fmt.Errorf("select points: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		p := expt.Scalar{Mode: sr.mode, Name: sr.name}
		var v *float64
		if err := rows.Scan(&p.Step, &v, &p.TS); err != nil {
			return out, fmt.Errorf("scan point: %w", err)
		}
		p.Value = math.NaN()
		if v != nil {
			p.Value = *v
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return out, fmt.Errorf("select points: %w", err)
	}
	return out, nil
}

// MetricKeys lists an experiment's metrics in Points' order, from the
// series table alone.
func (s Common) MetricKeys(ctx context.Context, experimentID string) ([]expt.MetricKey, error) {
	pk, err := s.pk(ctx, experimentID)
	if err != nil {
		return nil, err
	}
	series, err := s.seriesOf(ctx, s.e.Read, pk, expt.PointQuery{})
	if err != nil {
		return nil, err
	}
	out := make([]expt.MetricKey, len(series))
	for i, sr := range series {
		out[i] = expt.MetricKey{Mode: sr.mode, Name: sr.name}
	}
	return out, nil
}

// RewardNames lists an experiment's reward names in the order first logged.
func (s Common) RewardNames(ctx context.Context, experimentID string) ([]string, error) {
	pk, err := s.pk(ctx, experimentID)
	if err != nil {
		return nil, err
	}
	w := NewWhere(s.e.Read.Dollar())
	rows, err := s.e.Read.Query(ctx, `SELECT name FROM reward_names WHERE experiment = `+w.Bind(pk)+` ORDER BY id`, w.Args...)
	if err != nil {
		return nil, fmt.Errorf("select reward names: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("scan reward name: %w", err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select reward names: %w", err)
	}
	return out, nil
}
