package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
)

const experimentColumns = storekit.ExperimentColumns

var scanExperiment = storekit.ScanExperiment

// CreateExperiment inserts e, or loads it when the user already has it.
func (db *DB) CreateExperiment(ctx context.Context, e *expt.Experiment) (bool, error) {
	if err := storekit.NewExperiment(e, now()); err != nil {
		return false, err
	}
	created := false
	err := db.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO experiments(id, user_id, name, config, status, job_id, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING`,
			e.ID, e.UserID, e.Name, string(e.Config), e.Status, e.JobID, nanos(e.CreatedAt), nanos(e.UpdatedAt))
		if err != nil {
			return fmt.Errorf("insert experiment: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			created = true
			return nil
		}
		old, err := scanExperiment(tx.QueryRowContext(ctx, `SELECT `+experimentColumns+` FROM experiments WHERE id = ?`, e.ID))
		if err != nil {
			return fmt.Errorf("select experiment: %w", err)
		}
		return storekit.ExistingExperiment(old, e)
	})
	return created, err
}

// Experiment loads one of userID's experiments.
func (db *DB) Experiment(ctx context.Context, userID int64, id string) (*expt.Experiment, error) {
	return experimentOf(ctx, db.read, userID, id)
}

func experimentOf(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, userID int64, id string) (*expt.Experiment, error) {
	e, err := scanExperiment(q.QueryRowContext(ctx, `SELECT `+experimentColumns+` FROM experiments WHERE id = ? AND user_id = ?`, id, userID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, expt.Errorf(expt.ENOTFOUND, "experiment %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("select experiment: %w", err)
	}
	return e, nil
}

// UpdateExperiment changes the fields of upd that are set.
func (db *DB) UpdateExperiment(ctx context.Context, userID int64, id string, upd expt.ExperimentUpdate) (*expt.Experiment, error) {
	var e *expt.Experiment
	err := db.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if e, err = experimentOf(ctx, tx, userID, id); err != nil {
			return err
		}
		storekit.UpdateExperiment(e, upd, now())
		if _, err := tx.ExecContext(ctx, `UPDATE experiments SET name = ?, config = ?, status = ?, updated_at = ? WHERE id = ?`,
			e.Name, string(e.Config), e.Status, nanos(e.UpdatedAt), id); err != nil {
			return fmt.Errorf("update experiment: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

var experimentSorts = map[string]string{
	"":                  "created_at",
	expt.SortCreated:    "created_at",
	expt.SortUpdated:    "updated_at",
	expt.SortName:       "name COLLATE NOCASE",
	expt.SortLatestStep: "coalesce(latest_step, -1)",
}

// Experiments returns one page of a user's experiments and the total matching.
func (db *DB) Experiments(ctx context.Context, f expt.ExperimentFilter) ([]*expt.Experiment, int, error) {
	orderBy, limit, err := storekit.ExperimentOrder(f, experimentSorts)
	if err != nil {
		return nil, 0, err
	}
	where := `WHERE user_id = ?`
	args := []any{f.UserID}
	if f.Query != "" {
		// instr on lower() rather than LIKE: % and _ in the query are literal.
		where += ` AND instr(lower(name), lower(?)) > 0`
		args = append(args, f.Query)
	}
	if f.Status != "" {
		where += ` AND status = ?`
		args = append(args, f.Status)
	}
	var total int
	if err := db.read.QueryRowContext(ctx, `SELECT count(*) FROM experiments `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count experiments: %w", err)
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+experimentColumns+` FROM experiments `+where+
		` ORDER BY `+orderBy+` LIMIT ? OFFSET ?`, append(args, limit, f.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("select experiments: %w", err)
	}
	defer rows.Close()
	out, err := storekit.ScanExperiments(rows)
	return out, total, err
}

// DeleteExperiments deletes those of ids owned by userID with all their data.
func (db *DB) DeleteExperiments(ctx context.Context, userID int64, ids []string) (int, error) {
	pks := map[int64]bool{}
	var uuids []string
	err := db.tx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			var pk int64
			err := tx.QueryRowContext(ctx, `SELECT pk FROM experiments WHERE id = ? AND user_id = ?`, id, userID).Scan(&pk)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			} else if err != nil {
				return fmt.Errorf("select experiment: %w", err)
			}
			if err := deleteExperimentData(ctx, tx, pk); err != nil {
				return err
			}
			pks[pk] = true
			uuids = append(uuids, id)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	db.cache.forget(uuids, pks)
	return len(pks), nil
}

// deleteExperimentData removes every row that belongs to experiment pk.
func deleteExperimentData(ctx context.Context, tx *sql.Tx, pk int64) error {
	stmts := []string{
		`DELETE FROM points WHERE series_id IN (SELECT id FROM series WHERE experiment = ?1)`,
		`DELETE FROM rollups WHERE series_id IN (SELECT id FROM series WHERE experiment = ?1)`,
		`DELETE FROM series WHERE experiment = ?1`,
		`DELETE FROM rollouts_fts WHERE rowid IN (SELECT id FROM rollouts WHERE experiment = ?1)`,
		`DELETE FROM rewards WHERE rollout_id IN (SELECT id FROM rollouts WHERE experiment = ?1)`,
		`DELETE FROM rollouts WHERE experiment = ?1`,
		`DELETE FROM reward_names WHERE experiment = ?1`,
		`DELETE FROM prompts WHERE experiment = ?1`,
		`DELETE FROM step_counts WHERE experiment = ?1`,
		`DELETE FROM step_rewards WHERE experiment = ?1`,
		`DELETE FROM rollout_groups WHERE experiment = ?1`,
		`DELETE FROM group_rewards WHERE experiment = ?1`,
		`DELETE FROM idempotency WHERE experiment = ?1`,
		`DELETE FROM run_errors WHERE experiment = ?1`,
		`DELETE FROM env_logs WHERE experiment = ?1`,
		`DELETE FROM experiments WHERE pk = ?1`,
	}
	for _, s := range stmts {
		if _, err := tx.ExecContext(ctx, s, pk); err != nil {
			return fmt.Errorf("delete experiment data: %s: %w", strings.Fields(s)[2], err)
		}
	}
	return nil
}
