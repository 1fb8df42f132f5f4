package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// TableCount is one table's rows in the SQLite source and in PostgreSQL
// after an import; they must be equal for the import to succeed.
type TableCount struct {
	Table        string
	Source, Dest int64
}

// ImportSQLite copies every row of an embedded (sqlite package) database,
// already migrated to its newest schema, into this database, which must
// be empty: users, password and key hashes, sessions, experiments, points,
// rollouts with their rewards and statistics, idempotency keys, errors and
// environment logs, keeping every id. It runs in one transaction (a failed
// import leaves nothing behind), then compares row counts table by table
// and fails, rolling back, on any difference. progress gets a line per table.
func (db *DB) ImportSQLite(ctx context.Context, src SQLSource, progress io.Writer) ([]TableCount, error) {
	var counts []TableCount
	err := db.tryTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var users int64
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM experiments)`).Scan(&users); err != nil {
			return fmt.Errorf("check destination: %w", err)
		}
		if users > 0 {
			return errors.New("the destination database already has users or experiments; import only into an empty one")
		}
		im := &importer{ctx: ctx, src: src, tx: tx, progress: progress}
		if err := im.run(); err != nil {
			return err
		}
		counts = im.counts
		for _, c := range counts {
			if c.Source != c.Dest {
				return fmt.Errorf("table %s: %d rows in the source, %d copied", c.Table, c.Source, c.Dest)
			}
		}
		return nil
	})
	return counts, err
}

// SQLSource reads the SQLite database: a read transaction (*sql.Tx), so
// that every table comes from one snapshot, or a *sql.DB.
type SQLSource interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

type importer struct {
	ctx      context.Context
	src      SQLSource
	tx       pgx.Tx
	progress io.Writer
	counts   []TableCount
}

// Column conversions from SQLite values to what PostgreSQL columns take.
const (
	cInt       = iota // INTEGER NOT NULL
	cIntNull          // INTEGER, NULL kept
	cText             // TEXT NOT NULL
	cTextNull         // TEXT, NULL kept
	cBytes            // BLOB
	cTime             // Unix nanoseconds -> timestamptz
	cTimeNull         // same, NULL kept
	cFloat            // REAL NOT NULL
	cFloatNaN         // REAL where NULL means NaN, stored as NULL here too
	cFloatNaNv        // REAL where NULL means NaN, stored as NaN here (NOT NULL columns)
)

func convert(kind int, v any) (any, error) {
	switch kind {
	case cInt, cIntNull:
		if v == nil && kind == cIntNull {
			return nil, nil
		}
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("want an integer, got %T", v)
		}
		return n, nil
	case cText, cTextNull:
		switch s := v.(type) {
		case nil:
			if kind == cTextNull {
				return nil, nil
			}
			return "", nil
		case string:
			return s, nil
		case []byte:
			return string(s), nil
		}
		return nil, fmt.Errorf("want text, got %T", v)
	case cBytes:
		switch b := v.(type) {
		case []byte:
			return b, nil
		case string:
			return []byte(b), nil
		}
		return nil, fmt.Errorf("want a blob, got %T", v)
	case cTime, cTimeNull:
		if v == nil && kind == cTimeNull {
			return nil, nil
		}
		n, ok := v.(int64)
		if !ok {
			return nil, fmt.Errorf("want a time in nanoseconds, got %T", v)
		}
		return time.Unix(0, n).UTC(), nil
	case cFloat, cFloatNaN, cFloatNaNv:
		switch f := v.(type) {
		case nil:
			if kind == cFloatNaNv {
				return math.NaN(), nil
			} else if kind == cFloatNaN {
				return nil, nil
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

// copyTable streams `SELECT cols FROM table` from SQLite into the same
// columns of PostgreSQL with COPY, converting each column by kinds.
func (im *importer) copyTable(table string, cols []string, kinds []int) error {
	rows, err := im.src.QueryContext(im.ctx, `SELECT `+strings.Join(cols, ", ")+` FROM `+table)
	if err != nil {
		return fmt.Errorf("read %s: %w", table, err)
	}
	defer rows.Close()
	n, err := im.tx.CopyFrom(im.ctx, pgx.Identifier{table}, cols, &sqlRows{rows: rows, kinds: kinds, table: table})
	if err != nil {
		return fmt.Errorf("copy %s: %w", table, err)
	}
	return im.count(table, `SELECT count(*) FROM `+table, n)
}

// count records a table's source rows (by srcSQL) and copied rows.
func (im *importer) count(table, srcSQL string, dest int64) error {
	var src int64
	if err := im.src.QueryRowContext(im.ctx, srcSQL).Scan(&src); err != nil {
		return fmt.Errorf("count %s: %w", table, err)
	}
	im.counts = append(im.counts, TableCount{table, src, dest})
	if im.progress != nil {
		fmt.Fprintf(im.progress, "%-16s %d rows\n", table, dest)
	}
	return nil
}

// sqlRows adapts *sql.Rows to pgx.CopyFromSource.
type sqlRows struct {
	rows  *sql.Rows
	kinds []int
	table string
	err   error
}

func (r *sqlRows) Next() bool { return r.err == nil && r.rows.Next() }

func (r *sqlRows) Values() ([]any, error) {
	raw := make([]any, len(r.kinds))
	ptrs := make([]any, len(raw))
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	if err := r.rows.Scan(ptrs...); err != nil {
		return nil, fmt.Errorf("scan %s: %w", r.table, err)
	}
	out := make([]any, len(raw))
	for i, v := range raw {
		c, err := convert(r.kinds[i], v)
		if err != nil {
			return nil, fmt.Errorf("%s column %d: %w", r.table, i+1, err)
		}
		out[i] = c
	}
	return out, nil
}

func (r *sqlRows) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.rows.Err()
}

func (im *importer) run() error {
	type table struct {
		name  string
		cols  []string
		kinds []int
	}
	// In dependency order; the rollout tables are handled apart below.
	for _, t := range []table{
		{"users", []string{"id", "email", "name", "password_hash", "created_at"}, []int{cInt, cText, cText, cText, cTime}},
		{"api_keys", []string{"id", "user_id", "name", "prefix", "hash", "created_at", "last_used_at"}, []int{cText, cInt, cText, cText, cBytes, cTime, cTimeNull}},
		{"sessions", []string{"hash", "user_id", "expires_at"}, []int{cBytes, cInt, cTime}},
		{"experiments", []string{"pk", "id", "user_id", "name", "config", "status", "job_id", "created_at", "updated_at", "latest_step"},
			[]int{cInt, cText, cInt, cText, cText, cText, cText, cTime, cTime, cIntNull}},
		{"series", []string{"id", "experiment", "mode", "name"}, []int{cInt, cInt, cText, cText}},
		{"points", []string{"series_id", "step", "value", "ts"}, []int{cInt, cInt, cFloatNaN, cFloat}},
		{"idempotency", []string{"experiment", "key", "created_at"}, []int{cInt, cText, cTime}},
		{"reward_names", []string{"id", "experiment", "name"}, []int{cInt, cInt, cText}},
		{"rewards", []string{"rollout_id", "name_id", "value"}, []int{cInt, cInt, cFloatNaN}},
		{"step_counts", []string{"experiment", "mode", "step", "count"}, []int{cInt, cText, cInt, cInt}},
		{"step_rewards", []string{"experiment", "mode", "step", "name_id", "count", "nans", "sum", "sumsq", "min", "max"},
			[]int{cInt, cText, cInt, cInt, cInt, cInt, cFloatNaNv, cFloatNaNv, cFloatNaN, cFloatNaN}},
		{"rollout_groups", []string{"experiment", "step", "prompt_id", "mode", "count"}, []int{cInt, cInt, cInt, cText, cInt}},
		{"group_rewards", []string{"experiment", "step", "prompt_id", "mode", "name_id", "count", "nans", "sum", "mean", "m2", "min", "max"},
			[]int{cInt, cInt, cInt, cText, cInt, cInt, cInt, cFloatNaNv, cFloatNaNv, cFloatNaNv, cFloatNaN, cFloatNaN}},
		{"run_errors", []string{"id", "experiment", "step", "mode", "message", "type", "traceback", "ts", "created_at"},
			[]int{cInt, cInt, cIntNull, cText, cText, cText, cText, cFloat, cTime}},
		{"env_logs", []string{"id", "experiment", "rollout", "content", "created_at"}, []int{cInt, cInt, cText, cText, cTime}},
	} {
		if err := im.copyTable(t.name, t.cols, t.kinds); err != nil {
			return err
		}
	}
	// Rollups are not copied: every bucket with points is marked dirty,
	// and the first read recomputes it from the points just copied.
	if _, err := im.tx.Exec(im.ctx, `INSERT INTO rollups(series_id, bucket) SELECT DISTINCT series_id, step >> 10 FROM points`); err != nil {
		return fmt.Errorf("mark rollups: %w", err)
	}
	if err := im.prompts(); err != nil {
		return err
	}
	if err := im.rollouts(); err != nil {
		return err
	}
	// Identity columns continue after the copied ids.
	for _, t := range []string{"users", "experiments", "series", "prompts", "rollouts", "reward_names", "run_errors", "env_logs"} {
		col := "id"
		if t == "experiments" {
			col = "pk"
		}
		if _, err := im.tx.Exec(im.ctx, fmt.Sprintf(`SELECT setval(pg_get_serial_sequence('%s', '%s'), coalesce((SELECT max(%s) FROM %s), 0) + 1, false)`, t, col, col, t)); err != nil {
			return fmt.Errorf("advance %s ids: %w", t, err)
		}
	}
	return nil
}

// prompts copies one prompt row per (experiment, text): SQLite keeps a row
// per raw form, PostgreSQL one per text (the raw form moves to the
// rollout). The kept id is the text's first, which SQLite's group tables
// already use, so rollout_groups and group_rewards copy unchanged.
func (im *importer) prompts() error {
	rows, err := im.src.QueryContext(im.ctx, `SELECT min(id), experiment, text FROM prompts GROUP BY experiment, text_hash, text`)
	if err != nil {
		return fmt.Errorf("read prompts: %w", err)
	}
	defer rows.Close()
	n, err := im.tx.CopyFrom(im.ctx, pgx.Identifier{"prompts"}, []string{"id", "experiment", "text_sha", "text"}, &promptRows{rows: rows})
	if err != nil {
		return fmt.Errorf("copy prompts: %w", err)
	}
	return im.count("prompts", `SELECT count(*) FROM (SELECT 1 FROM prompts GROUP BY experiment, text_hash, text)`, n)
}

type promptRows struct {
	rows *sql.Rows
}

func (r *promptRows) Next() bool { return r.rows.Next() }
func (r *promptRows) Err() error { return r.rows.Err() }
func (r *promptRows) Values() ([]any, error) {
	var id, exp int64
	var text string
	if err := r.rows.Scan(&id, &exp, &text); err != nil {
		return nil, fmt.Errorf("scan prompt: %w", err)
	}
	return []any{id, exp, []byte(promptSHA(text)), text}, nil
}

// importChunk is how many rollouts go in per statement: their full-text
// vectors are computed by PostgreSQL on the way in.
const importChunk = 2000

// rollouts copies rollouts in id order, pointing each at its text's prompt
// row, keeping its own raw prompt, and indexing its text for search.
func (im *importer) rollouts() error {
	// The text's first prompt id is what prompts() kept for it.
	rows, err := im.src.QueryContext(im.ctx, `SELECT r.id, r.experiment, r.step, r.mode,
			(SELECT min(q.id) FROM prompts q WHERE q.experiment = p.experiment AND q.text_hash = p.text_hash AND q.text = p.text),
			p.text, p.raw, r.messages, r.ts, r.created_at, r.client_id
		FROM rollouts r JOIN prompts p ON p.id = r.prompt_id ORDER BY r.id`)
	if err != nil {
		return fmt.Errorf("read rollouts: %w", err)
	}
	defer rows.Close()
	var (
		ids, exps, steps, prompts  []int64
		modes, msgs, texts, bodies []string
		raws, clients              []*string
		tss                        []float64
		created                    []time.Time
		copied                     int64
	)
	flush := func() error {
		if len(ids) == 0 {
			return nil
		}
		tag, err := im.tx.Exec(im.ctx, `INSERT INTO rollouts(id, experiment, step, mode, prompt_id, prompt_raw, messages, ts, created_at, client_id, search)
			SELECT id, e, step, mode, prompt, raw, msgs, ts, created, client,
				to_tsvector('simple', left(text, $1)) || to_tsvector('simple', left(body, $2))
			FROM unnest($3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::float8[], $11::timestamptz[], $12::text[], $13::text[], $14::text[])
				AS x(id, e, step, mode, prompt, raw, msgs, ts, created, client, text, body)`,
			searchPromptChars, searchBodyChars, ids, exps, steps, modes, prompts, raws, msgs, tss, created, clients, texts, bodies)
		if err != nil {
			return fmt.Errorf("insert rollouts: %w", err)
		}
		copied += tag.RowsAffected()
		ids, exps, steps, prompts = ids[:0], exps[:0], steps[:0], prompts[:0]
		modes, msgs, texts, bodies = modes[:0], msgs[:0], texts[:0], bodies[:0]
		raws, clients, tss, created = raws[:0], clients[:0], tss[:0], created[:0]
		return nil
	}
	for rows.Next() {
		var id, exp, step, pid, createdNs int64
		var mode, text, m string
		var raw, client sql.NullString
		var ts float64
		if err := rows.Scan(&id, &exp, &step, &mode, &pid, &text, &raw, &m, &ts, &createdNs, &client); err != nil {
			return fmt.Errorf("scan rollout: %w", err)
		}
		var body strings.Builder
		var raws2 []json.RawMessage
		if err := json.Unmarshal([]byte(m), &raws2); err != nil {
			return fmt.Errorf("rollout %d: messages: %w", id, err)
		}
		for _, r := range raws2 {
			var fields struct {
				Content json.RawMessage `json:"content"`
			}
			var content string
			if json.Unmarshal(r, &fields) == nil {
				_ = json.Unmarshal(fields.Content, &content)
			}
			body.WriteString(content)
			body.WriteByte('\n')
		}
		ids, exps, steps, modes, prompts = append(ids, id), append(exps, exp), append(steps, step), append(modes, mode), append(prompts, pid)
		raws, msgs, tss = append(raws, nullString(raw)), append(msgs, m), append(tss, ts)
		created, clients = append(created, time.Unix(0, createdNs).UTC()), append(clients, nullString(client))
		texts, bodies = append(texts, text), append(bodies, body.String())
		if len(ids) == importChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read rollouts: %w", err)
	}
	if err := flush(); err != nil {
		return err
	}
	return im.count("rollouts", `SELECT count(*) FROM rollouts`, copied)
}

func nullString(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}
