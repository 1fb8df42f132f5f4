package storekit

import (
	"strconv"
	"strings"
)

// Where builds a WHERE clause and its arguments, with the placeholders of
// one dialect: "?" (SQLite) or "$1", "$2"... (PostgreSQL).
type Where struct {
	conds  []string
	Args   []any
	dollar bool
}

// NewWhere returns an empty clause; dollar selects $N placeholders.
func NewWhere(dollar bool) *Where { return &Where{dollar: dollar} }

// Bind adds an argument and returns its placeholder.
func (w *Where) Bind(v any) string {
	w.Args = append(w.Args, v)
	if w.dollar {
		return "$" + strconv.Itoa(len(w.Args))
	}
	return "?"
}

// BindList adds the arguments of an IN list and returns its placeholders,
// comma-separated.
func BindList[T any](w *Where, vs []T) string {
	ps := make([]string, len(vs))
	for i, v := range vs {
		ps[i] = w.Bind(v)
	}
	return strings.Join(ps, ",")
}

// Add adds a condition; the conditions are ANDed.
func (w *Where) Add(cond string) { w.conds = append(w.conds, cond) }

// SQL is the conditions, without the WHERE keyword.
func (w *Where) SQL() string { return strings.Join(w.conds, " AND ") }

// Clone copies w, so that one base clause serves several queries.
func (w *Where) Clone() *Where {
	return &Where{conds: append([]string{}, w.conds...), Args: append([]any{}, w.Args...), dollar: w.dollar}
}

// Steps adds the step conditions a rollout or group query may have, on the
// step column col.
func (w *Where) Steps(col string, step, from, to *int64) {
	if step != nil {
		w.Add(col + ` = ` + w.Bind(*step))
	}
	if from != nil {
		w.Add(col + ` >= ` + w.Bind(*from))
	}
	if to != nil {
		w.Add(col + ` <= ` + w.Bind(*to))
	}
}

// AfterID adds a rollout list's key for paging in id order: the rollouts
// after id (before it when desc); none when id is 0.
func AfterID(w *Where, id int64, desc bool) {
	switch {
	case id == 0:
	case desc:
		w.Add(`r.id < ` + w.Bind(id))
	default:
		w.Add(`r.id > ` + w.Bind(id))
	}
}

// RolloutWhere is the clause every rollout query starts from: the
// experiment (row id pk), and the mode and steps when given, on rollouts
// aliased r. dollar selects $N placeholders.
func RolloutWhere(dollar bool, pk int64, mode string, step, from, to *int64) *Where {
	w := NewWhere(dollar)
	w.Add(`r.experiment = ` + w.Bind(pk))
	if mode != "" {
		w.Add(`r.mode = ` + w.Bind(mode))
	}
	w.Steps(`r.step`, step, from, to)
	return w
}
