package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

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
	e.CreatedAt, e.UpdatedAt = micro(e.CreatedAt), micro(e.UpdatedAt)
	created := false
	err := db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `INSERT INTO experiments(id, user_id, name, config, status, job_id, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO NOTHING`,
			e.ID, e.UserID, e.Name, string(e.Config), e.Status, e.JobID, e.CreatedAt, e.UpdatedAt)
		if err != nil {
			return fmt.Errorf("insert experiment: %w", err)
		}
		if tag.RowsAffected() == 1 {
			created = true
			return nil
		}
		old, err := scanExperiment(tx.QueryRow(ctx, `SELECT `+experimentColumns+` FROM experiments WHERE id = $1`, e.ID))
		if err != nil {
			return fmt.Errorf("select experiment: %w", err)
		}
		return storekit.ExistingExperiment(old, e)
	})
	return created, err
}

// Experiment loads one of userID's experiments.
func (db *DB) Experiment(ctx context.Context, userID int64, id string) (*expt.Experiment, error) {
	return experimentOf(ctx, db.pool, userID, id, "")
}

type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func experimentOf(ctx context.Context, q queryRower, userID int64, id, lock string) (*expt.Experiment, error) {
	e, err := scanExperiment(q.QueryRow(ctx, `SELECT `+experimentColumns+` FROM experiments WHERE id = $1 AND user_id = $2`+lock, id, userID))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, expt.Errorf(expt.ENOTFOUND, "experiment %q not found", id)
	} else if err != nil {
		return nil, fmt.Errorf("select experiment: %w", err)
	}
	return e, nil
}

// UpdateExperiment changes the fields of upd that are set.
func (db *DB) UpdateExperiment(ctx context.Context, userID int64, id string, upd expt.ExperimentUpdate) (*expt.Experiment, error) {
	var e *expt.Experiment
	err := db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		var err error
		// FOR UPDATE: two replicas updating different fields must not undo each other.
		if e, err = experimentOf(ctx, tx, userID, id, ` FOR UPDATE`); err != nil {
			return err
		}
		storekit.UpdateExperiment(e, upd, now())
		if _, err := tx.Exec(ctx, `UPDATE experiments SET name = $1, config = $2, status = $3, updated_at = $4 WHERE id = $5`,
			e.Name, string(e.Config), e.Status, e.UpdatedAt, id); err != nil {
			return fmt.Errorf("update experiment: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return e, nil
}

// Sort keys compare like SQLite's: names case-insensitively in byte order
// (COLLATE "C", whatever the database's locale).
var experimentSorts = map[string]string{
	"":                  "created_at",
	expt.SortCreated:    "created_at",
	expt.SortUpdated:    "updated_at",
	expt.SortName:       `lower(name) COLLATE "C"`,
	expt.SortLatestStep: "coalesce(latest_step, -1)",
}

// Experiments returns one page of a user's experiments and the total matching.
func (db *DB) Experiments(ctx context.Context, f expt.ExperimentFilter) ([]*expt.Experiment, int, error) {
	orderBy, limit, err := storekit.ExperimentOrder(f, experimentSorts)
	if err != nil {
		return nil, 0, err
	}
	where := `WHERE user_id = $1`
	args := []any{f.UserID}
	if f.Query != "" {
		// strpos rather than LIKE: % and _ in the query are literal.
		args = append(args, f.Query)
		where += ` AND strpos(lower(name), lower($` + strconv.Itoa(len(args)) + `)) > 0`
	}
	if f.Status != "" {
		args = append(args, f.Status)
		where += ` AND status = $` + strconv.Itoa(len(args))
	}
	var total int
	if err := db.pool.QueryRow(ctx, `SELECT count(*) FROM experiments `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count experiments: %w", err)
	}
	n := len(args)
	rows, err := db.pool.Query(ctx, `SELECT `+experimentColumns+` FROM experiments `+where+
		` ORDER BY `+orderBy+fmt.Sprintf(` LIMIT $%d OFFSET $%d`, n+1, n+2), append(args, limit, f.Offset)...)
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
	err := db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		clear(pks)
		// The experiment rows go first: deleting them waits for the writers
		// that hold them (FOR KEY SHARE, see lockExperiment) to commit, and
		// makes later writers find nothing, so the data deleted below is
		// all there will ever be.
		rows, err := tx.Query(ctx, `DELETE FROM experiments WHERE user_id = $1 AND id = ANY($2) RETURNING pk`, userID, ids)
		if err != nil {
			return fmt.Errorf("delete experiments: %w", err)
		}
		list, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return fmt.Errorf("delete experiments: %w", err)
		}
		if len(list) == 0 {
			return nil
		}
		for _, pk := range list {
			pks[pk] = true
		}
		return deleteExperimentData(ctx, tx, list)
	})
	if err != nil {
		return 0, err
	}
	db.cache.forget(pks)
	return len(pks), nil
}

// deleteExperimentData removes every row that belongs to experiments pks.
func deleteExperimentData(ctx context.Context, tx pgx.Tx, pks []int64) error {
	stmts := []string{
		`DELETE FROM points WHERE series_id IN (SELECT id FROM series WHERE experiment = ANY($1))`,
		`DELETE FROM rollups WHERE series_id IN (SELECT id FROM series WHERE experiment = ANY($1))`,
		`DELETE FROM series WHERE experiment = ANY($1)`,
		`DELETE FROM rewards WHERE rollout_id IN (SELECT id FROM rollouts WHERE experiment = ANY($1))`,
		`DELETE FROM rollouts WHERE experiment = ANY($1)`,
		`DELETE FROM reward_names WHERE experiment = ANY($1)`,
		`DELETE FROM prompts WHERE experiment = ANY($1)`,
		`DELETE FROM step_counts WHERE experiment = ANY($1)`,
		`DELETE FROM step_rewards WHERE experiment = ANY($1)`,
		`DELETE FROM rollout_groups WHERE experiment = ANY($1)`,
		`DELETE FROM group_rewards WHERE experiment = ANY($1)`,
		`DELETE FROM idempotency WHERE experiment = ANY($1)`,
		`DELETE FROM run_errors WHERE experiment = ANY($1)`,
		`DELETE FROM env_logs WHERE experiment = ANY($1)`,
	}
	b := &pgx.Batch{}
	for _, s := range stmts {
		b.Queue(s, pks)
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("delete experiment data: %w", err)
	}
	return nil
}

// experimentPK resolves an experiment uuid to its row id; ENOTFOUND when missing.
func experimentPK(ctx context.Context, q queryRower, id string) (int64, error) {
	var pk int64
	err := q.QueryRow(ctx, `SELECT pk FROM experiments WHERE id = $1`, id).Scan(&pk)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, expt.Errorf(expt.ENOTFOUND, "experiment %q not found", id)
	} else if err != nil {
		return 0, fmt.Errorf("select experiment: %w", err)
	}
	return pk, nil
}

// lockExperiment resolves the experiment for a write and holds it (FOR KEY
// SHARE: writers do not block each other) until the transaction ends, so
// that a concurrent DeleteExperiments cannot leave this batch's rows behind.
func lockExperiment(ctx context.Context, tx pgx.Tx, id string) (int64, error) {
	var pk int64
	err := tx.QueryRow(ctx, `SELECT pk FROM experiments WHERE id = $1 FOR KEY SHARE`, id).Scan(&pk)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, expt.Errorf(expt.ENOTFOUND, "experiment %q not found", id)
	} else if err != nil {
		return 0, fmt.Errorf("select experiment: %w", err)
	}
	return pk, nil
}

// claimKey records key for the experiment in the batch's transaction and
// reports whether it was new; an empty key is always new. A concurrent
// claim of the same key (another replica) waits for the first to commit or
// roll back, so exactly one of them applies.
func claimKey(ctx context.Context, tx pgx.Tx, pk int64, key string) (bool, error) {
	if key == "" {
		return true, nil
	}
	tag, err := tx.Exec(ctx, `INSERT INTO idempotency(experiment, key, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, pk, key, now())
	if err != nil {
		return false, fmt.Errorf("insert idempotency key: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

const touchSQL = `UPDATE experiments SET updated_at = $1,
	latest_step = CASE WHEN $2::bigint < 0 THEN latest_step ELSE greatest(latest_step, $2::bigint) END
	WHERE pk = $3`

// appendBatch runs write in one transaction after locking the experiment
// and claiming idemKey; it reports applied=false when the key was used.
func (db *DB) appendBatch(ctx context.Context, experimentID, idemKey string, write func(tx pgx.Tx, pk int64) error) (bool, error) {
	applied := false
	err := db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		applied = false
		pk, err := lockExperiment(ctx, tx, experimentID)
		if err != nil {
			return err
		}
		if ok, err := claimKey(ctx, tx, pk, idemKey); err != nil || !ok {
			return err
		}
		applied = true
		return write(tx, pk)
	})
	return applied, err
}
