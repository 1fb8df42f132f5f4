package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/expt-logger/expt/internal/storekit"
	"github.com/jackc/pgx/v5"
)

// TableCount is one table's rows in the SQLite source and in PostgreSQL
// after an import; they must be equal for the import to succeed.
type TableCount struct {
	Table        string
	Source, Dest int64
}

// Import copies every row of another store (see storekit.Table; the
// sqlite package's Dump) into this database, which must be empty: users,
// password and key hashes, sessions, experiments, points, rollouts with
// their rewards and statistics, idempotency keys, errors and environment
// logs, keeping every id. It runs in one transaction (a failed import
// leaves nothing behind), then compares row counts table by table and
// fails, rolling back, on any difference. progress gets a line per table.
func (db *DB) Import(ctx context.Context, src []storekit.Table, progress io.Writer) ([]TableCount, error) {
	var counts []TableCount
	err := db.tryTx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var users int64
		if err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM experiments)`).Scan(&users); err != nil {
			return fmt.Errorf("check destination: %w", err)
		}
		if users > 0 {
			return errors.New("the destination database already has users or experiments; import only into an empty one")
		}
		im := &importer{ctx: ctx, tx: tx, progress: progress}
		if err := im.run(src); err != nil {
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

type importer struct {
	ctx      context.Context
	tx       pgx.Tx
	progress io.Writer
	counts   []TableCount
}

func (im *importer) run(src []storekit.Table) error {
	for _, t := range src {
		var err error
		switch t.Name {
		case "prompts":
			err = im.prompts(t)
		case "rollouts":
			err = im.rollouts(t)
		default:
			err = im.copyTable(t)
		}
		if err != nil {
			return err
		}
	}
	// Rollups are not copied: every bucket with points is marked dirty,
	// and the first read recomputes it from the points just copied.
	if _, err := im.tx.Exec(im.ctx, `INSERT INTO rollups(series_id, bucket) SELECT DISTINCT series_id, step >> 10 FROM points`); err != nil {
		return fmt.Errorf("mark rollups: %w", err)
	}
	// Identity columns continue after the copied ids.
	for _, t := range []string{"users", "projects", "experiments", "series", "prompts", "rollouts", "reward_names", "run_errors", "env_logs"} {
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

// copyTable streams a table into the same columns here with COPY. A NaN
// goes in as NULL where the column may be NULL (how this schema keeps NaN
// in most places) and as NaN where it may not (running sums).
func (im *importer) copyTable(t storekit.Table) error {
	nullable, err := im.nullable(t.Name)
	if err != nil {
		return err
	}
	nanNull := make([]bool, len(t.Columns))
	for i, c := range t.Columns {
		nanNull[i] = nullable[c]
	}
	rows, err := t.Rows(im.ctx)
	if err != nil {
		return err
	}
	defer rows.Close()
	n, err := im.tx.CopyFrom(im.ctx, pgx.Identifier{t.Name}, t.Columns, &nanRows{TableRows: rows, nanNull: nanNull})
	if err != nil {
		return fmt.Errorf("copy %s: %w", t.Name, err)
	}
	return im.count(t, n)
}

// nullable reports which columns of a table here may be NULL.
func (im *importer) nullable(table string) (map[string]bool, error) {
	rows, err := im.tx.Query(im.ctx, `SELECT column_name, is_nullable = 'YES' FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = $1`, table)
	if err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	out := map[string]bool{}
	var name string
	var null bool
	if _, err := pgx.ForEachRow(rows, []any{&name, &null}, func() error { out[name] = null; return nil }); err != nil {
		return nil, fmt.Errorf("columns of %s: %w", table, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("table %s: not in this database", table)
	}
	return out, nil
}

// count records a table's source rows and copied rows.
func (im *importer) count(t storekit.Table, dest int64) error {
	src, err := t.Count(im.ctx)
	if err != nil {
		return err
	}
	im.counts = append(im.counts, TableCount{t.Name, src, dest})
	if im.progress != nil {
		fmt.Fprintf(im.progress, "%-16s %d rows\n", t.Name, dest)
	}
	return nil
}

// nanRows is a table's rows with NaN as NULL in the columns marked.
type nanRows struct {
	storekit.TableRows
	nanNull []bool
}

func (r *nanRows) Values() ([]any, error) {
	vs, err := r.TableRows.Values()
	if err != nil {
		return nil, err
	}
	for i, v := range vs {
		if f, ok := v.(float64); ok && math.IsNaN(f) && r.nanNull[i] {
			vs[i] = nil
		}
	}
	return vs, nil
}

// columns finds the positions of names among a table's columns.
func columns(t storekit.Table, names ...string) ([]int, error) {
	out := make([]int, len(names))
	for i, n := range names {
		j := slices.Index(t.Columns, n)
		if j < 0 {
			return nil, fmt.Errorf("table %s has no column %s", t.Name, n)
		}
		out[i] = j
	}
	return out, nil
}

// prompts copies the prompt rows, adding the hash this schema looks them up by.
func (im *importer) prompts(t storekit.Table) error {
	at, err := columns(t, "id", "experiment", "text", "grp")
	if err != nil {
		return err
	}
	rows, err := t.Rows(im.ctx)
	if err != nil {
		return err
	}
	defer rows.Close()
	n, err := im.tx.CopyFrom(im.ctx, pgx.Identifier{"prompts"}, []string{"id", "experiment", "text_sha", "text", "grp"}, &promptRows{rows, at})
	if err != nil {
		return fmt.Errorf("copy prompts: %w", err)
	}
	return im.count(t, n)
}

type promptRows struct {
	storekit.TableRows
	at []int
}

func (r *promptRows) Values() ([]any, error) {
	vs, err := r.TableRows.Values()
	if err != nil {
		return nil, err
	}
	text, _ := vs[r.at[2]].(string)
	grp, _ := vs[r.at[3]].(string)
	return []any{vs[r.at[0]], vs[r.at[1]], []byte(promptSHA(text)), text, grp}, nil
}

// importChunk is how many rollouts go in per statement: their full-text
// vectors are computed by PostgreSQL on the way in.
const importChunk = 2000

// rollouts copies rollouts in id order, indexing each one's text (its
// prompt's, copied before it, and its messages') for search.
func (im *importer) rollouts(t storekit.Table) error {
	at, err := columns(t, "id", "experiment", "step", "mode", "prompt_id", "prompt_raw", "messages", "ts", "created_at", "client_id", "metadata")
	if err != nil {
		return err
	}
	rows, err := t.Rows(im.ctx)
	if err != nil {
		return err
	}
	defer rows.Close()
	var w rolloutInsert
	for rows.Next() {
		vs, err := rows.Values()
		if err != nil {
			return err
		}
		if err := w.add(vs, at); err != nil {
			return err
		}
		if len(w.ids) == importChunk {
			if err := w.flush(im); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read rollouts: %w", err)
	}
	if err := w.flush(im); err != nil {
		return err
	}
	return im.count(t, w.copied)
}

// rolloutInsert gathers up to importChunk rollouts for one INSERT.
type rolloutInsert struct {
	ids, exps, steps, prompts []int64
	modes, msgs, bodies       []string
	raws, clients, metas      []*string
	tss                       []float64
	created                   []time.Time
	copied                    int64
}

func (w *rolloutInsert) add(vs []any, at []int) error {
	id, _ := vs[at[0]].(int64)
	exp, _ := vs[at[1]].(int64)
	step, _ := vs[at[2]].(int64)
	mode, _ := vs[at[3]].(string)
	pid, _ := vs[at[4]].(int64)
	raw, _ := vs[at[5]].(string)
	m, _ := vs[at[6]].(string)
	ts, _ := vs[at[7]].(float64)
	created, _ := vs[at[8]].(time.Time)
	client, _ := vs[at[9]].(string)
	meta, _ := vs[at[10]].(string)
	var body strings.Builder
	var msgs []json.RawMessage
	if err := json.Unmarshal([]byte(m), &msgs); err != nil {
		return fmt.Errorf("rollout %d: messages: %w", id, err)
	}
	for _, r := range msgs {
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
	w.ids, w.exps, w.steps, w.modes, w.prompts = append(w.ids, id), append(w.exps, exp), append(w.steps, step), append(w.modes, mode), append(w.prompts, pid)
	w.raws, w.msgs, w.tss = append(w.raws, orNil(vs[at[5]] != nil, raw)), append(w.msgs, m), append(w.tss, ts)
	w.created, w.clients = append(w.created, created), append(w.clients, orNil(vs[at[9]] != nil, client))
	w.metas = append(w.metas, orNil(vs[at[10]] != nil, meta))
	w.bodies = append(w.bodies, body.String())
	return nil
}

func (w *rolloutInsert) flush(im *importer) error {
	if len(w.ids) == 0 {
		return nil
	}
	tag, err := im.tx.Exec(im.ctx, `INSERT INTO rollouts(id, experiment, step, mode, prompt_id, prompt_raw, messages, ts, created_at, client_id, metadata, search)
		SELECT x.id, e, step, mode, prompt, raw, msgs, ts, created, client, meta,
			to_tsvector('simple', left(p.text, $1)) || to_tsvector('simple', left(body, $2))
		FROM unnest($3::bigint[], $4::bigint[], $5::bigint[], $6::text[], $7::bigint[], $8::text[], $9::text[], $10::float8[], $11::timestamptz[], $12::text[], $13::text[], $14::text[])
			AS x(id, e, step, mode, prompt, raw, msgs, ts, created, client, body, meta)
		JOIN prompts p ON p.id = x.prompt ORDER BY x.id`,
		searchPromptChars, searchBodyChars, w.ids, w.exps, w.steps, w.modes, w.prompts, w.raws, w.msgs, w.tss, w.created, w.clients, w.bodies, w.metas)
	if err != nil {
		return fmt.Errorf("insert rollouts: %w", err)
	}
	w.copied += tag.RowsAffected()
	w.ids, w.exps, w.steps, w.prompts = w.ids[:0], w.exps[:0], w.steps[:0], w.prompts[:0]
	w.modes, w.msgs, w.bodies = w.modes[:0], w.msgs[:0], w.bodies[:0]
	w.raws, w.clients, w.metas, w.tss, w.created = w.raws[:0], w.clients[:0], w.metas[:0], w.tss[:0], w.created[:0]
	return nil
}

func orNil(ok bool, s string) *string {
	if !ok {
		return nil
	}
	return &s
}
