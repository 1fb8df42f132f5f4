package storekit

import (
	"encoding/json"
	"time"

	"github.com/expt-logger/expt"
)

// NewExperiment checks an experiment about to be created and fills what the
// caller left empty: the times (now), the status (active) and the config ({}).
func NewExperiment(e *expt.Experiment, now time.Time) error {
	if e.ID == "" {
		return expt.Errorf(expt.EINVALID, "experiment id is required")
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = now
	}
	if e.UpdatedAt.IsZero() {
		e.UpdatedAt = e.CreatedAt
	}
	if e.Status == "" {
		e.Status = expt.StatusActive
	}
	if len(e.Config) == 0 {
		e.Config = json.RawMessage("{}")
	}
	tags, err := expt.CheckLabels(e.Tags, e.Notes, e.Group)
	if err != nil {
		return err
	}
	e.Tags = tags
	return nil
}

// UpdateExperiment applies the fields of upd that are set to e.
func UpdateExperiment(e *expt.Experiment, upd expt.ExperimentUpdate, now time.Time) {
	if upd.Name != nil {
		e.Name = *upd.Name
	}
	if upd.Config != nil {
		e.Config = upd.Config
	}
	if upd.Tags != nil {
		e.Tags = *upd.Tags
	}
	if upd.Notes != nil {
		e.Notes = *upd.Notes
	}
	if upd.Status != nil {
		e.Status = *upd.Status
	}
	e.UpdatedAt = now
}

// DefaultLimit is a page's size when the caller asks for none.
const DefaultLimit = 50

// ExperimentOrder checks f's paging and returns its ORDER BY clause, built
// from the store's column expression for each sort key (sorts) with the
// experiment id breaking ties (what a page's key names), and its page size.
func ExperimentOrder(f expt.ExperimentFilter, sorts map[string]string) (orderBy string, limit int, err error) {
	col, ok := sorts[f.Sort]
	if !ok {
		return "", 0, expt.Errorf(expt.EINVALID, "unknown sort %q", f.Sort)
	}
	if f.Offset < 0 || f.Limit < 0 {
		return "", 0, expt.Errorf(expt.EINVALID, "offset and limit must not be negative")
	}
	if f.After != nil && f.Offset > 0 {
		return "", 0, expt.Errorf(expt.EINVALID, "after and offset page two ways: give one")
	}
	dir := Dir(f.Desc)
	return col + dir + ", id" + dir, Limit(f.Limit), nil
}

// afterKey is the condition "after f.After in f's order" on experiments:
// the row value (sort expression, id) compared with the last experiment's.
func (s Common) afterKey(w *Where, f expt.ExperimentFilter) string {
	a := f.After
	var v any
	switch f.Sort {
	case "", expt.SortCreated:
		v = s.e.Time(a.CreatedAt)
	case expt.SortUpdated:
		v = s.e.Time(a.UpdatedAt)
	case expt.SortName:
		v = a.Name
	case expt.SortLatestStep:
		v = int64(-1)
		if a.LatestStep != nil {
			v = *a.LatestStep
		}
	}
	op := " > "
	if f.Desc {
		op = " < "
	}
	bound := w.Bind(v)
	if f.Sort == expt.SortName && s.e.NameSortValue != nil {
		bound = s.e.NameSortValue(bound)
	}
	return `(` + s.e.ExperimentSorts[f.Sort] + `, id)` + op + `(` + bound + `, ` + w.Bind(a.ID) + `)`
}

// Dir is the SQL direction of an order.
func Dir(desc bool) string {
	if desc {
		return " DESC"
	}
	return " ASC"
}

// Limit is a page size, DefaultLimit when none was asked for.
func Limit(n int) int {
	if n == 0 {
		return DefaultLimit
	}
	return n
}

// Page cuts a list read with one row more than limit to limit, and
// reports whether the extra row was there (more pages follow).
func Page[T any](list []T, limit int) ([]T, bool) {
	if len(list) > limit {
		return list[:limit], true
	}
	return list, false
}
