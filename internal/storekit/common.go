package storekit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/expt-logger/expt"
)

// Engine is what Common needs of a store: its read connection, its
// transactions and the few places where the engines' SQL differs.
type Engine struct {
	Read Conn
	// Write is where single statements outside a transaction run (SQLite:
	// its one write connection).
	Write Conn
	// Tx runs fn in a write transaction, committing when fn returns nil.
	Tx func(ctx context.Context, fn func(tx Conn) error) error
	// ExperimentPK resolves an experiment's uuid to its row id (ENOTFOUND
	// when missing); the store may cache it.
	ExperimentPK func(ctx context.Context, c Conn, id string) (int64, error)
	// ReadTx runs fn in a read-only transaction: one snapshot.
	ReadTx func(ctx context.Context, fn func(tx Conn) error) error
	// RolloutFilter is the WHERE clause every rollout query starts from
	// (rollouts r), with the engine's full-text search.
	RolloutFilter func(pk int64, mode string, step, from, to *int64, search string) *Where
	// Collate is appended to text in ORDER BY, so that both engines sort
	// by bytes whatever the database's locale.
	Collate string
	// Time is a time as the engine stores it.
	Time func(time.Time) any
	// ReadPoints, when set, replaces the generic read of one series' points
	// in Points (step > after, at most to, up to n, appended to out): a
	// store whose driver has a faster path for millions of rows uses it.
	ReadPoints func(ctx context.Context, tx Conn, series, after int64, to *int64, n int, mode, name string, out []expt.Scalar) ([]expt.Scalar, error)
	// RolloutColumns is the column list of ScanRollouts (rollouts r,
	// prompts p): where the raw prompt is kept differs.
	RolloutColumns string
	// LockUpdate is what a SELECT appends to hold a row it will update
	// (PostgreSQL: FOR UPDATE, or two replicas undo each other's change;
	// SQLite's write transaction holds the database already).
	LockUpdate string
	// NameMatch is the condition "the experiment name contains the text
	// bound at placeholder p", case-insensitively and literally (no LIKE
	// wildcards).
	NameMatch func(p string) string
	// EmailKey is the conflict target of the users' unique email index,
	// and EmailMatch the condition "u.email is the one bound at p"; both
	// case-insensitive.
	EmailKey   string
	EmailMatch func(p string) string
	// TagMatch is the condition "the experiment's tags (a JSON array of
	// strings) hold the one bound at p".
	TagMatch func(p string) string
	// ExperimentSorts maps expt.Sort* to ORDER BY columns, with the
	// engine's collation.
	ExperimentSorts map[string]string
	// NameSortValue is the name sort's expression applied to a bound name
	// (nil: the bound value as it is), for paging by key.
	NameSortValue func(p string) string
	// ConfigMatch is the condition "the experiments' config holds the JSON
	// scalar m.Value at m.Path", binding in w.
	ConfigMatch func(w *Where, m expt.ConfigMatch) (string, error)
	// Floor is the integer floor of a non-negative float expression.
	Floor func(expr string) string
	// DeleteExperiments is the store's own (it knows its data tables).
	DeleteExperiments func(ctx context.Context, projects []int64, ids []string) (int, error)
}

// Common is the part of expt.Store that both engines implement the same
// way. Each store embeds one, so these methods are its methods.
type Common struct{ e Engine }

// NewCommon returns the shared methods over e.
func NewCommon(e Engine) Common { return Common{e: e} }

// ExperimentPK resolves an experiment uuid to its row id with the query
// "SELECT pk ... WHERE id = ?" followed by lock; ENOTFOUND when missing.
func ExperimentPK(ctx context.Context, c Conn, id, lock string) (int64, error) {
	w := NewWhere(c.Dollar())
	pk, ok, err := QueryID(ctx, c, "experiment", `SELECT pk FROM experiments WHERE id = `+w.Bind(id)+lock, w.Args...)
	if err == nil && !ok {
		err = expt.Errorf(expt.ENOTFOUND, "experiment %q not found", id)
	}
	return pk, err
}

func (s Common) pk(ctx context.Context, id string) (int64, error) {
	return s.e.ExperimentPK(ctx, s.e.Read, id)
}

// tagsJSON is how both stores keep tags: a JSON array of strings.
func tagsJSON(tags []string) string {
	if len(tags) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(tags)
	return string(b)
}

// UserByID finds a user by id.
func (s Common) UserByID(ctx context.Context, id int64) (*expt.User, error) {
	w := NewWhere(s.e.Read.Dollar())
	return QueryUser(ctx, s.e.Read, fmt.Sprint(id), `WHERE u.id = `+w.Bind(id), w.Args...)
}

// FirstUser returns the oldest user.
func (s Common) FirstUser(ctx context.Context) (*expt.User, error) {
	return QueryUser(ctx, s.e.Read, "(first)", `ORDER BY u.created_at, u.id LIMIT 1`)
}

// APIKeys lists a user's keys, oldest first.
func (s Common) APIKeys(ctx context.Context, userID int64) ([]*expt.APIKey, error) {
	return QueryAPIKeys(ctx, s.e.Read, userID)
}

// Experiment loads one experiment.
func (s Common) Experiment(ctx context.Context, id string) (*expt.Experiment, error) {
	return experimentOf(ctx, s.e.Read, id, "")
}

func experimentOf(ctx context.Context, c Conn, id, lock string) (*expt.Experiment, error) {
	w := NewWhere(c.Dollar())
	e, err := ScanExperiment(c.QueryRow(ctx, `SELECT `+ExperimentColumns+` FROM experiments
		WHERE id = `+w.Bind(id)+lock, w.Args...))
	if errors.Is(err, ErrNoRows) {
		return nil, expt.Errorf(expt.ENOTFOUND, "experiment %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("select experiment: %w", err)
	}
	return e, nil
}

// UpdateExperiment changes the fields of upd that are set.
func (s Common) UpdateExperiment(ctx context.Context, id string, upd expt.ExperimentUpdate) (*expt.Experiment, error) {
	var e *expt.Experiment
	err := s.e.Tx(ctx, func(tx Conn) error {
		var err error
		if e, err = experimentOf(ctx, tx, id, s.e.LockUpdate); err != nil {
			return err
		}
		UpdateExperiment(e, upd, micro(time.Now()))
		w := NewWhere(tx.Dollar())
		tags, err := expt.CheckLabels(e.Tags, e.Notes, e.Group)
		if err != nil {
			return err
		}
		e.Tags = tags
		if _, err := tx.Exec(ctx, `UPDATE experiments SET name = `+w.Bind(e.Name)+`, config = `+w.Bind(string(e.Config))+
			`, status = `+w.Bind(e.Status)+`, updated_at = `+w.Bind(s.e.Time(e.UpdatedAt))+
			`, tags = `+w.Bind(tagsJSON(e.Tags))+`, notes = `+w.Bind(e.Notes)+` WHERE id = `+w.Bind(id), w.Args...); err != nil {
			return fmt.Errorf("update experiment: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Experiments returns one page of some projects' experiments and the total matching.
func (s Common) Experiments(ctx context.Context, f expt.ExperimentFilter) ([]*expt.Experiment, int, error) {
	orderBy, limit, err := ExperimentOrder(f, s.e.ExperimentSorts)
	if err != nil {
		return nil, 0, err
	}
	c := s.e.Read
	if len(f.Projects) == 0 {
		return []*expt.Experiment{}, 0, nil
	}
	w := NewWhere(c.Dollar())
	w.Add(In(w, "project_id", f.Projects))
	if f.Query != "" {
		w.Add(s.e.NameMatch(w.Bind(f.Query)))
	}
	if f.Status != "" {
		w.Add(`status = ` + w.Bind(f.Status))
	}
	if f.Tag != "" {
		w.Add(s.e.TagMatch(w.Bind(f.Tag)))
	}
	if len(f.Config) > expt.MaxConfigMatches {
		return nil, 0, expt.Errorf(expt.EINVALID, "config: at most %d conditions", expt.MaxConfigMatches)
	}
	for _, m := range f.Config {
		cond, err := s.e.ConfigMatch(w, m)
		if err != nil {
			return nil, 0, err
		}
		w.Add(cond)
	}
	var total int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM experiments WHERE `+w.SQL(), w.Args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count experiments: %w", err)
	}
	page := w.Clone()
	if f.After != nil {
		page.Add(s.afterKey(page, f))
	}
	cols := ExperimentColumns
	if f.WithoutConfig {
		cols = strings.Replace(cols, "config", "'{}'", 1)
	}
	rows, err := c.Query(ctx, `SELECT `+cols+` FROM experiments WHERE `+page.SQL()+
		` ORDER BY `+orderBy+` LIMIT `+page.Bind(limit)+` OFFSET `+page.Bind(f.Offset), page.Args...)
	if err != nil {
		return nil, 0, fmt.Errorf("select experiments: %w", err)
	}
	defer rows.Close()
	out, err := ScanExperiments(rows)
	return out, total, err
}

// Rollout loads one rollout of an experiment.
func (s Common) Rollout(ctx context.Context, experimentID string, id int64) (*expt.Rollout, error) {
	pk, err := s.pk(ctx, experimentID)
	if err != nil {
		return nil, err
	}
	w := NewWhere(s.e.Read.Dollar())
	r, err := QueryRollout(ctx, s.e.Read, experimentID, id, `SELECT `+s.e.RolloutColumns+` FROM rollouts r JOIN prompts p ON p.id = r.prompt_id
		WHERE r.id = `+w.Bind(id)+` AND r.experiment = `+w.Bind(pk), w.Args...)
	if err != nil {
		return nil, err
	}
	return r, attachTokens(ctx, s.e.Read, r)
}

// Scalars returns every point of every metric of one mode.
func (s Common) Scalars(ctx context.Context, experimentID, mode string) (map[string][]expt.Point, error) {
	pk, err := s.pk(ctx, experimentID)
	if err != nil {
		return nil, err
	}
	return QueryScalars(ctx, s.e.Read, pk, mode)
}

// Errors returns an experiment's errors in logging order.
func (s Common) Errors(ctx context.Context, experimentID string, offset, limit int) ([]expt.RunError, bool, error) {
	pk, err := s.pk(ctx, experimentID)
	if err != nil {
		return nil, false, err
	}
	return QueryRunErrors(ctx, s.e.Read, pk, limit, offset)
}

// EnvLogs returns the environment logs of one client rollout id, oldest first.
func (s Common) EnvLogs(ctx context.Context, experimentID, rolloutID string) ([]expt.EnvLog, error) {
	pk, err := s.pk(ctx, experimentID)
	if err != nil {
		return nil, err
	}
	w := NewWhere(s.e.Read.Dollar())
	rows, err := s.e.Read.Query(ctx, `SELECT id, content, created_at FROM env_logs
		WHERE experiment = `+w.Bind(pk)+` AND rollout = `+w.Bind(rolloutID)+` ORDER BY id`, w.Args...)
	if err != nil {
		return nil, fmt.Errorf("select env logs: %w", err)
	}
	defer rows.Close()
	return ScanEnvLogs(rows, rolloutID)
}

// CreateExperiment inserts e, or loads it when its id exists.
func (s Common) CreateExperiment(ctx context.Context, e *expt.Experiment) (bool, error) {
	if err := NewExperiment(e, time.Now()); err != nil {
		return false, err
	}
	// Microseconds: what both engines keep and JSON carries.
	e.CreatedAt, e.UpdatedAt = micro(e.CreatedAt), micro(e.UpdatedAt)
	created := false
	err := s.e.Tx(ctx, func(tx Conn) error {
		w := NewWhere(tx.Dollar())
		if e.ProjectID == 0 {
			pid, ok, err := QueryID(ctx, tx, "personal project", `SELECT id FROM projects WHERE personal_of = `+w.Bind(e.UserID), w.Args...)
			if err != nil {
				return err
			} else if !ok {
				return expt.Errorf(expt.ENOTFOUND, "user %d has no personal project", e.UserID)
			}
			e.ProjectID, w = pid, NewWhere(tx.Dollar())
		}
		n, err := tx.Exec(ctx, `INSERT INTO experiments(id, user_id, project_id, name, config, status, job_id, created_at, updated_at, tags, notes, group_name)
			VALUES (`+BindList(w, []any{e.ID, e.UserID, e.ProjectID, e.Name, string(e.Config), e.Status, e.JobID, s.e.Time(e.CreatedAt), s.e.Time(e.UpdatedAt),
			tagsJSON(e.Tags), e.Notes, e.Group})+`)
			ON CONFLICT (id) DO NOTHING`, w.Args...)
		if err != nil {
			return fmt.Errorf("insert experiment: %w", err)
		}
		if n == 1 {
			created = true
			return nil
		}
		w = NewWhere(tx.Dollar())
		old, err := ScanExperiment(tx.QueryRow(ctx, `SELECT `+ExperimentColumns+` FROM experiments WHERE id = `+w.Bind(e.ID), w.Args...))
		if err != nil {
			return fmt.Errorf("select experiment: %w", err)
		}
		*e = *old
		return nil
	})
	return created, err
}

// LastValues reads the value at the highest step of each metric of each
// experiment: one query per metric, an index seek per series.
func (s Common) LastValues(ctx context.Context, ids []string, metrics []expt.MetricKey) (map[string]map[expt.MetricKey]float64, error) {
	out := map[string]map[expt.MetricKey]float64{}
	if len(ids) == 0 || len(metrics) == 0 {
		return out, nil
	}
	if len(metrics) > expt.MaxMetricColumns {
		return nil, expt.Errorf(expt.EINVALID, "metric: at most %d columns", expt.MaxMetricColumns)
	}
	for _, m := range metrics {
		w := NewWhere(s.e.Read.Dollar())
		rows, err := s.e.Read.Query(ctx, `SELECT e.id, (SELECT p.value FROM points p WHERE p.series_id = s.id ORDER BY p.step DESC LIMIT 1)
			FROM series s JOIN experiments e ON e.pk = s.experiment
			WHERE s.mode = `+w.Bind(m.Mode)+` AND s.name = `+w.Bind(m.Name)+` AND `+In(w, "e.id", ids), w.Args...)
		if err != nil {
			return nil, fmt.Errorf("select last values: %w", err)
		}
		for rows.Next() {
			var id string
			var v *float64
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return nil, fmt.Errorf("scan last value: %w", err)
			}
			if out[id] == nil {
				out[id] = map[expt.MetricKey]float64{}
			}
			out[id][m] = math.NaN() // NULL: the store's NaN
			if v != nil {
				out[id][m] = *v
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("select last values: %w", err)
		}
	}
	return out, nil
}

// ConfigScalar decodes a config match's value for binding: a float64, a
// string, a bool, or nil for JSON null. Objects and arrays are refused.
func ConfigScalar(m expt.ConfigMatch) (any, error) {
	if len(m.Path) == 0 {
		return nil, expt.Errorf(expt.EINVALID, "config: name a key, as in config=lr=3e-6")
	}
	var v any
	if err := json.Unmarshal(m.Value, &v); err != nil {
		return nil, expt.Errorf(expt.EINVALID, "config: %s is not a JSON value", m.Value)
	}
	switch v.(type) {
	case float64, string, bool, nil:
		return v, nil
	}
	return nil, expt.Errorf(expt.EINVALID, "config: compare with a number, a string, true, false or null")
}

// Heartbeat records that the run's process is alive, reviving a crashed run.
func (s Common) Heartbeat(ctx context.Context, id string, at time.Time) (*expt.Experiment, bool, error) {
	var e *expt.Experiment
	revived := false
	at = micro(at)
	err := s.e.Tx(ctx, func(tx Conn) error {
		var err error
		if e, err = experimentOf(ctx, tx, id, s.e.LockUpdate); err != nil {
			return err
		}
		w := NewWhere(tx.Dollar())
		set := `heartbeat_at = ` + w.Bind(s.e.Time(at))
		if e.Status == expt.StatusCrashed {
			revived, e.Status, e.UpdatedAt = true, expt.StatusActive, at
			set += `, status = ` + w.Bind(expt.StatusActive) + `, updated_at = ` + w.Bind(s.e.Time(at))
		}
		if _, err := tx.Exec(ctx, `UPDATE experiments SET `+set+` WHERE id = `+w.Bind(id), w.Args...); err != nil {
			return fmt.Errorf("heartbeat: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return e, revived, nil
}

// MarkCrashed marks crashed the active runs whose heartbeat went silent.
func (s Common) MarkCrashed(ctx context.Context, silentSince time.Time) ([]*expt.Experiment, error) {
	now := micro(time.Now())
	w := NewWhere(s.e.Write.Dollar())
	rows, err := s.e.Write.Query(ctx, `UPDATE experiments SET status = `+w.Bind(expt.StatusCrashed)+`, updated_at = `+w.Bind(s.e.Time(now))+`
		WHERE status = `+w.Bind(expt.StatusActive)+` AND heartbeat_at < `+w.Bind(s.e.Time(micro(silentSince)))+`
		RETURNING `+ExperimentColumns, w.Args...)
	if err != nil {
		return nil, fmt.Errorf("mark crashed: %w", err)
	}
	defer rows.Close()
	return ScanExperiments(rows)
}
