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

var experimentSorts = map[string]string{
	"":                  "created_at",
	expt.SortCreated:    "created_at",
	expt.SortUpdated:    "updated_at",
	expt.SortName:       "name COLLATE NOCASE",
	expt.SortLatestStep: "coalesce(latest_step, -1)",
}

// DeleteExperiments deletes those of ids in projects with all their data.
func (db *DB) DeleteExperiments(ctx context.Context, projects []int64, ids []string) (int, error) {
	in := map[int64]bool{}
	for _, p := range projects {
		in[p] = true
	}
	pks := map[int64]bool{}
	var uuids []string
	err := db.tx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			var pk, project int64
			err := tx.QueryRowContext(ctx, `SELECT pk, project_id FROM experiments WHERE id = ?`, id).Scan(&pk, &project)
			if errors.Is(err, sql.ErrNoRows) || err == nil && !in[project] {
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
		`DELETE FROM rollout_tokens WHERE rollout_id IN (SELECT id FROM rollouts WHERE experiment = ?1)`,
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

// configMatch compares the SQL value json_extract gives for the path:
// REAL or INTEGER for numbers (compared numerically), TEXT for strings,
// 1/0 for booleans; JSON null is its json_type.
func configMatch(w *storekit.Where, m expt.ConfigMatch) (string, error) {
	v, err := storekit.ConfigScalar(m)
	if err != nil {
		return "", err
	}
	var path strings.Builder
	path.WriteString("$")
	for _, k := range m.Path {
		path.WriteString(`."` + strings.ReplaceAll(k, `"`, `\"`) + `"`)
	}
	// "?" placeholders are positional: bind the path at each use.
	p := func() string { return w.Bind(path.String()) }
	typ := func() string { return `json_type(config, ` + p() + `)` }
	switch v := v.(type) {
	case nil:
		return typ() + ` = 'null'`, nil
	case bool:
		// json_extract gives 1/0 for true/false, and so would a number:
		// json_type tells them apart.
		return typ() + ` = ` + w.Bind(map[bool]string{true: "true", false: "false"}[v]), nil
	case string:
		return `(` + typ() + ` = 'text' AND json_extract(config, ` + p() + `) = ` + w.Bind(v) + `)`, nil
	default:
		return `(` + typ() + ` IN ('integer', 'real') AND json_extract(config, ` + p() + `) = ` + w.Bind(v) + `)`, nil
	}
}
