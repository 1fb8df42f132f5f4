package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
)

// Sort keys compare like SQLite's: names case-insensitively in byte order
// (COLLATE "C", whatever the database's locale).
var experimentSorts = map[string]string{
	"":                  "created_at",
	expt.SortCreated:    "created_at",
	expt.SortUpdated:    "updated_at",
	expt.SortName:       `lower(name) COLLATE "C"`,
	expt.SortLatestStep: "coalesce(latest_step, -1)",
}

// DeleteExperiments deletes those of ids in projects with all their data.
func (db *DB) DeleteExperiments(ctx context.Context, projects []int64, ids []string) (int, error) {
	pks := map[int64]bool{}
	err := db.tx(ctx, pgx.TxOptions{}, func(tx pgx.Tx) error {
		clear(pks)
		// The experiment rows go first: deleting them waits for the writers
		// that hold them (FOR KEY SHARE, see lockExperiment) to commit, and
		// makes later writers find nothing, so the data deleted below is
		// all there will ever be.
		rows, err := tx.Query(ctx, `DELETE FROM experiments WHERE project_id = ANY($1) AND id = ANY($2) RETURNING pk`, projects, ids)
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
		`DELETE FROM rollout_tokens WHERE rollout_id IN (SELECT id FROM rollouts WHERE experiment = ANY($1))`,
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
func experimentPK(ctx context.Context, c storekit.Conn, id string) (int64, error) {
	return storekit.ExperimentPK(ctx, c, id, "")
}

// lockExperiment resolves the experiment for a write and holds it (FOR KEY
// SHARE: writers do not block each other) until the transaction ends, so
// that a concurrent DeleteExperiments cannot leave this batch's rows behind.
func lockExperiment(ctx context.Context, tx pgx.Tx, id string) (int64, error) {
	return storekit.ExperimentPK(ctx, conn{tx}, id, ` FOR KEY SHARE`)
}

// claimKey records key for the experiment in the batch's transaction and
// reports whether it was new; an empty key is always new. A concurrent
// claim of the same key (another replica) waits for the first to commit or
// roll back, so exactly one of them applies.
func claimKey(ctx context.Context, tx pgx.Tx, pk int64, key string) (bool, error) {
	c := conn{tx}
	return storekit.Claim(func(q string, args ...any) (int64, error) { return c.Exec(ctx, q, args...) },
		func(q string, args ...any) (n int64, err error) {
			err = c.QueryRow(ctx, q, args...).Scan(&n)
			return n, err
		},
		true, pk, key, now())
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

// configMatch compares jsonb values: numbers numerically (3e-6 = 0.000003),
// strings, booleans and null by type and value.
func configMatch(w *storekit.Where, m expt.ConfigMatch) (string, error) {
	if _, err := storekit.ConfigScalar(m); err != nil {
		return "", err
	}
	return `(config::jsonb #> ` + w.Bind(m.Path) + `::text[]) = ` + w.Bind(string(m.Value)) + `::jsonb`, nil
}
