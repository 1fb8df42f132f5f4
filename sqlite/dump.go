package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/expt-logger/expt/internal/storekit"
)

// Source reads a database for Dump: a read transaction (*sql.Tx), so that
// every table comes from one snapshot, or a *sql.DB.
type Source interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// How a stored SQLite value becomes a storekit.Table value.
const (
	kInt       = iota // INTEGER
	kIntNull          // INTEGER, NULL kept
	kText             // TEXT; NULL as ""
	kTextNull         // TEXT, NULL kept
	kBytes            // BLOB
	kBytesNull        // BLOB, NULL kept
	kTime             // Unix nanoseconds -> time.Time
	kTimeNull         // same, NULL kept
	kFloat            // REAL
	kFloatNaN         // REAL where NULL means NaN (how this schema keeps NaN)
	kBool             // INTEGER 0/1 -> bool
)

// column is one column of a dumped table: its logical name, and the SQL
// that reads it (the name itself unless the schemas differ there).
type column struct {
	name, sql string
	kind      int
}

func col(name string, kind int) column { return column{name, name, kind} }

// dumpTable is one logical table: columns read FROM from (a table, or a
// query where this schema differs from the shared one).
type dumpTable struct {
	name, from, count string
	cols              []column
}

// dumpTables is this schema read as the shared one, in reference order.
var dumpTables = []dumpTable{
	{name: "users", cols: []column{col("id", kInt), col("email", kText), col("name", kText), col("password_hash", kText), col("created_at", kTime),
		col("is_admin", kBool), col("disabled", kBool), col("invited", kBool)}},
	{name: "projects", cols: []column{col("id", kInt), col("name", kText), col("personal_of", kIntNull), col("created_at", kTime)}},
	{name: "project_members", cols: []column{col("project_id", kInt), col("user_id", kInt), col("role", kText), col("created_at", kTime)}},
	{name: "api_keys", cols: []column{col("id", kText), col("user_id", kInt), col("name", kText), col("prefix", kText), col("hash", kBytes), col("created_at", kTime), col("last_used_at", kTimeNull),
		col("project_id", kIntNull), col("access", kText)}},
	{name: "sessions", cols: []column{col("hash", kBytes), col("user_id", kInt), col("expires_at", kTime)}},
	{name: "experiments", cols: []column{col("pk", kInt), col("id", kText), col("user_id", kInt), col("project_id", kInt), col("name", kText), col("config", kText),
		col("status", kText), col("job_id", kText), col("created_at", kTime), col("updated_at", kTime), col("latest_step", kIntNull),
		col("tags", kText), col("notes", kText), col("group_name", kText)}},
	{name: "series", cols: []column{col("id", kInt), col("experiment", kInt), col("mode", kText), col("name", kText)}},
	{name: "points", cols: []column{col("series_id", kInt), col("step", kInt), col("value", kFloatNaN), col("ts", kFloat)}},
	{name: "idempotency", cols: []column{col("experiment", kInt), col("key", kText), col("body_hash", kTextNull), col("created_at", kTime)}},
	{name: "reward_names", cols: []column{col("id", kInt), col("experiment", kInt), col("name", kText)}},
	{name: "rollout_tokens", cols: []column{col("rollout_id", kInt), col("data", kBytes), col("tokens", kInt)}},
	{name: "rewards", cols: []column{col("rollout_id", kInt), col("name_id", kInt), col("value", kFloatNaN)}},
	{name: "step_counts", cols: []column{col("experiment", kInt), col("mode", kText), col("step", kInt), col("count", kInt), col("lengths", kBytesNull)}},
	{name: "step_rewards", cols: []column{col("experiment", kInt), col("mode", kText), col("step", kInt), col("name_id", kInt), col("count", kInt),
		col("nans", kInt), col("sum", kFloatNaN), col("sumsq", kFloatNaN), col("min", kFloatNaN), col("max", kFloatNaN), col("sketch", kBytesNull)}},
	{name: "rollout_groups", cols: []column{col("experiment", kInt), col("step", kInt), col("prompt_id", kInt), col("mode", kText), col("count", kInt)}},
	{name: "group_rewards", cols: []column{col("experiment", kInt), col("step", kInt), col("prompt_id", kInt), col("mode", kText), col("name_id", kInt),
		col("count", kInt), col("nans", kInt), col("sum", kFloatNaN), col("mean", kFloatNaN), col("m2", kFloatNaN), col("min", kFloatNaN), col("max", kFloatNaN)}},
	{name: "run_errors", cols: []column{col("id", kInt), col("experiment", kInt), col("step", kIntNull), col("mode", kText), col("message", kText),
		col("type", kText), col("traceback", kText), col("ts", kFloat), col("created_at", kTime)}},
	{name: "env_logs", cols: []column{col("id", kInt), col("experiment", kInt), col("rollout", kText), col("content", kText), col("created_at", kTime)}},
	// One prompt per (experiment, text, group id): this schema keeps a row
	// per raw form, the shared one a row per text and group id with the raw
	// form on the rollout. The kept id is the first, which the group tables
	// already use.
	{
		name:  "prompts",
		from:  `prompts GROUP BY experiment, text_hash, text, grp`,
		count: `SELECT count(*) FROM (SELECT 1 FROM prompts GROUP BY experiment, text_hash, text, grp)`,
		cols:  []column{{"id", "min(id)", kInt}, col("experiment", kInt), col("text", kText), col("grp", kText)},
	},
	{
		name: "rollouts",
		from: `rollouts r JOIN prompts p ON p.id = r.prompt_id`,
		cols: []column{
			{"id", "r.id", kInt}, {"experiment", "r.experiment", kInt}, {"step", "r.step", kInt}, {"mode", "r.mode", kText},
			{"prompt_id", "(SELECT min(q.id) FROM prompts q WHERE q.experiment = p.experiment AND q.text_hash = p.text_hash AND q.text = p.text AND q.grp = p.grp)", kInt},
			{"prompt_raw", "p.raw", kTextNull}, {"messages", "r.messages", kText}, {"ts", "r.ts", kFloat},
			{"created_at", "r.created_at", kTime}, {"client_id", "r.client_id", kTextNull},
			{"metadata", "r.metadata", kTextNull},
		},
	},
}

// Dump lists the rows of a database (migrated to the newest schema) in
// the shared logical schema, read through src.
func Dump(src Source) []storekit.Table {
	out := make([]storekit.Table, len(dumpTables))
	for i, t := range dumpTables {
		names, exprs, kinds := make([]string, len(t.cols)), make([]string, len(t.cols)), make([]int, len(t.cols))
		for j, c := range t.cols {
			names[j], exprs[j], kinds[j] = c.name, c.sql, c.kind
		}
		from, count := t.from, t.count
		if from == "" {
			from = t.name
		}
		if count == "" {
			count = `SELECT count(*) FROM ` + t.name
		}
		query := `SELECT ` + strings.Join(exprs, ", ") + ` FROM ` + from
		if t.name == "rollouts" {
			query += ` ORDER BY r.id`
		}
		out[i] = storekit.Table{
			Name:    t.name,
			Columns: names,
			Rows: func(ctx context.Context) (storekit.TableRows, error) {
				rows, err := src.QueryContext(ctx, query)
				if err != nil {
					return nil, fmt.Errorf("read %s: %w", t.name, err)
				}
				return &dumpRows{rows: rows, kinds: kinds, table: t.name}, nil
			},
			Count: func(ctx context.Context) (n int64, err error) {
				if err = src.QueryRowContext(ctx, count).Scan(&n); err != nil {
					err = fmt.Errorf("count %s: %w", t.name, err)
				}
				return n, err
			},
		}
	}
	return out
}

// dumpRows converts each row of a table's query by its columns' kinds.
type dumpRows struct {
	rows  *sql.Rows
	kinds []int
	table string
}

func (r *dumpRows) Next() bool { return r.rows.Next() }
func (r *dumpRows) Err() error { return r.rows.Err() }
func (r *dumpRows) Close()     { r.rows.Close() }

func (r *dumpRows) Values() ([]any, error) {
	raw := make([]any, len(r.kinds))
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	if err := r.rows.Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("scan %s: %w", r.table, err)
	}
	for i, v := range raw {
		c, err := dumpValue(r.kinds[i], v)
		if err != nil {
			return nil, fmt.Errorf("%s column %d: %w", r.table, i+1, err)
		}
		raw[i] = c
	}
	return raw, nil
}

func dumpValue(kind int, v any) (any, error) {
	switch kind {
	case kInt, kIntNull:
		if v == nil && kind == kIntNull {
			return nil, nil
		}
		if n, ok := v.(int64); ok {
			return n, nil
		}
		return nil, fmt.Errorf("want an integer, got %T", v)
	case kText, kTextNull:
		switch s := v.(type) {
		case nil:
			if kind == kTextNull {
				return nil, nil
			}
			return "", nil
		case string:
			return s, nil
		case []byte:
			return string(s), nil
		}
		return nil, fmt.Errorf("want text, got %T", v)
	case kBytes, kBytesNull:
		switch b := v.(type) {
		case nil:
			if kind == kBytesNull {
				return nil, nil
			}
		case []byte:
			return b, nil
		case string:
			return []byte(b), nil
		}
		return nil, fmt.Errorf("want a blob, got %T", v)
	case kBool:
		if n, ok := v.(int64); ok {
			return n != 0, nil
		}
		return nil, fmt.Errorf("want a boolean integer, got %T", v)
	case kTime, kTimeNull:
		if v == nil && kind == kTimeNull {
			return nil, nil
		}
		if n, ok := v.(int64); ok {
			return time.Unix(0, n).UTC(), nil
		}
		return nil, fmt.Errorf("want a time in nanoseconds, got %T", v)
	case kFloat, kFloatNaN:
		switch f := v.(type) {
		case nil:
			if kind == kFloatNaN {
				return math.NaN(), nil
			}
			return 0.0, nil
		case float64:
			return f, nil
		case int64:
			return float64(f), nil
		}
		return nil, fmt.Errorf("want a number, got %T", v)
	}
	return nil, fmt.Errorf("unknown column kind %d", kind)
}
