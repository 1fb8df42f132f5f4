package export

import (
	"context"
	"fmt"
	"io"
	"math"

	"github.com/expt-logger/expt"
)

// Scalars selects the points of an export.
type Scalars struct {
	Experiments []string         // in this order
	Mode        string           // "" for every mode
	Keys        []expt.MetricKey // none: every metric
	FromStep    *int64
	ToStep      *int64
	Wide        bool // a row per (experiment, step) and a column per metric, instead of a row per point
	// Columns are the wide shape's metrics when the caller listed them
	// already with WideColumns (to refuse a bad export before its first
	// byte); nil lists them here.
	Columns []expt.MetricKey
}

// MaxWideColumns bounds a wide table: each column keeps a page of points
// in memory while the rows are merged.
const MaxWideColumns = 10_000

// pointPage is how many points a long export reads at once.
const pointPage = 50_000

// WriteScalars writes the points q selects to w as one table.
func WriteScalars(ctx context.Context, src Source, q Scalars, f Format, w io.Writer, progress Progress) error {
	if q.Wide {
		return writeWide(ctx, src, q, f, w, progress)
	}
	cols := []Column{
		{Name: "experiment", Kind: String, Dict: true},
		{Name: "step", Kind: Int},
		{Name: "mode", Kind: String, Dict: true},
		{Name: "name", Kind: String, Dict: true},
		{Name: "value", Kind: Float},
		{Name: "ts", Kind: Float},
	}
	t, err := NewTable(f, w, cols)
	if err != nil {
		return err
	}
	cells := make([]Cell, len(cols))
	var n int64
	// Reading the next page overlaps writing this one: on two cores the
	// store's scan and the encoding each get one.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan pointPageOf, 2)
	free := make(chan []expt.Scalar, 4) // pages written, handed back to the reader to fill again
	go readLong(ctx, src, q, pages, free)
	for pg := range pages {
		if pg.err != nil {
			return pg.err
		}
		cells[0].S = pg.experiment
		for _, p := range pg.points {
			cells[1].I, cells[2].S, cells[3].S, cells[4].F, cells[5].F = p.Step, p.Mode, p.Name, p.Value, p.TS
			if err := t.Row(cells); err != nil {
				return err
			}
		}
		n += int64(len(pg.points))
		if progress != nil {
			progress(n)
		}
		select {
		case free <- pg.points:
		default:
		}
	}
	return t.Close()
}

// pointPageOf is one page of one experiment's points, or the error that
// ended the reading.
type pointPageOf struct {
	experiment string
	points     []expt.Scalar
	err        error
}

// readLong sends the pages of every experiment of q in order, then closes
// pages; it stops early when ctx ends.
func readLong(ctx context.Context, src Source, q Scalars, pages chan<- pointPageOf, free <-chan []expt.Scalar) {
	defer close(pages)
	for _, id := range q.Experiments {
		pq := expt.PointQuery{ExperimentID: id, Mode: q.Mode, Keys: q.Keys, FromStep: q.FromStep, ToStep: q.ToStep, Limit: pointPage}
		for {
			select {
			case pq.Buf = <-free:
			default:
				pq.Buf = nil
			}
			page, more, err := src.Points(ctx, pq)
			if err != nil {
				err = fmt.Errorf("export %s: %w", id, err)
			}
			select {
			case pages <- pointPageOf{id, page, err}:
			case <-ctx.Done():
				return
			}
			if err != nil || !more || len(page) == 0 {
				break
			}
			last := page[len(page)-1]
			pq.After = &expt.PointCursor{Mode: last.Mode, Name: last.Name, Step: last.Step}
		}
	}
}

// WideColumns lists the metric columns of a wide export of q: every
// metric of the experiments that q keeps, in (mode, name) order, as
// "mode/name".
func WideColumns(ctx context.Context, src Source, q Scalars) ([]expt.MetricKey, error) {
	keep := map[expt.MetricKey]bool{}
	for _, k := range q.Keys {
		keep[k] = true
	}
	seen := map[expt.MetricKey]bool{}
	var out []expt.MetricKey
	for _, id := range q.Experiments {
		ks, err := src.MetricKeys(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("export %s: %w", id, err)
		}
		for _, k := range ks {
			if (q.Mode != "" && k.Mode != q.Mode) || (len(keep) > 0 && !keep[k]) || seen[k] {
				continue
			}
			seen[k] = true
			out = append(out, k)
		}
	}
	if len(out) > MaxWideColumns {
		return nil, expt.Errorf(expt.EINVALID, "a wide export has %d metrics, more than %d columns: choose keys, or export the long form", len(out), MaxWideColumns)
	}
	return out, nil
}

// cursor reads one metric of one experiment page by page.
type cursor struct {
	col  int
	q    expt.PointQuery
	page []expt.Scalar
	i    int
	more bool
}

func (c *cursor) head() *expt.Scalar {
	if c.i < len(c.page) {
		return &c.page[c.i]
	}
	return nil
}

func (c *cursor) fill(ctx context.Context, src Source) error {
	if c.i < len(c.page) || (!c.more && c.page != nil) {
		return nil
	}
	if n := len(c.page); n > 0 {
		last := c.page[n-1]
		c.q.After = &expt.PointCursor{Mode: last.Mode, Name: last.Name, Step: last.Step}
	}
	c.q.Buf = c.page // consumed: the next page is read into its memory
	page, more, err := src.Points(ctx, c.q)
	if err != nil {
		return err
	}
	c.page, c.i, c.more = page, 0, more
	if page == nil {
		c.page = []expt.Scalar{}
	}
	return nil
}

// writeWide merges each experiment's metrics by step into rows of
// (experiment, step, ts, one column per metric): ts is the latest of the
// row's points; a metric not logged at that step is null.
func writeWide(ctx context.Context, src Source, q Scalars, f Format, w io.Writer, progress Progress) error {
	keys := q.Columns
	if keys == nil {
		var err error
		if keys, err = WideColumns(ctx, src, q); err != nil {
			return err
		}
	}
	cols := []Column{{Name: "experiment", Kind: String, Dict: true}, {Name: "step", Kind: Int}, {Name: "ts", Kind: Float}}
	colOf := make(map[expt.MetricKey]int, len(keys))
	for i, k := range keys {
		colOf[k] = 3 + i
		cols = append(cols, Column{Name: k.Mode + "/" + k.Name, Kind: Float, Optional: true})
	}
	t, err := NewTable(f, w, cols)
	if err != nil {
		return err
	}
	// Each metric keeps one page in memory: about 4 MB in all.
	page := max(256, min(pointPage, (256<<10)/max(1, len(keys))))
	cells := make([]Cell, len(cols))
	var n int64
	for _, id := range q.Experiments {
		ks, err := src.MetricKeys(ctx, id)
		if err != nil {
			return fmt.Errorf("export %s: %w", id, err)
		}
		var cs []*cursor
		for _, k := range ks {
			col, ok := colOf[k]
			if !ok {
				continue
			}
			cs = append(cs, &cursor{col: col, q: expt.PointQuery{ExperimentID: id, Mode: k.Mode,
				Keys: []expt.MetricKey{k}, FromStep: q.FromStep, ToStep: q.ToStep, Limit: page}})
		}
		cells[0].S = id
		for {
			step := int64(math.MaxInt64)
			for _, c := range cs {
				if err := c.fill(ctx, src); err != nil {
					return fmt.Errorf("export %s: %w", id, err)
				}
				if h := c.head(); h != nil && h.Step < step {
					step = h.Step
				}
			}
			if step == math.MaxInt64 {
				break
			}
			for i := 3; i < len(cells); i++ {
				cells[i] = Cell{Null: true}
			}
			cells[1].I, cells[2].F = step, 0
			for _, c := range cs {
				if h := c.head(); h != nil && h.Step == step {
					cells[c.col] = Cell{F: h.Value}
					cells[2].F = max(cells[2].F, h.TS)
					c.i++
				}
			}
			if err := t.Row(cells); err != nil {
				return err
			}
			if n++; progress != nil && n%4096 == 0 {
				progress(n)
			}
		}
	}
	if progress != nil {
		progress(n)
	}
	return t.Close()
}
