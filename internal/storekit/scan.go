package storekit

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/expt-logger/expt"
)

// Rows is what both drivers' result sets offer (database/sql's *sql.Rows
// and pgx.Rows); the caller closes them.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// Row is one row of a single-row query, from either driver.
type Row interface {
	Scan(dest ...any) error
}

// Time scans a stored time into t, whichever way the store keeps it:
// integer nanoseconds since the epoch (SQLite) or a timestamp (PostgreSQL).
// Both drivers call sql.Scanner on a destination that implements it.
func Time(t *time.Time) *timeDest { return &timeDest{t: t} }

// NullTime is Time for a nullable column: *t is nil for NULL.
func NullTime(t **time.Time) *nullTimeDest { return &nullTimeDest{t: t} }

type timeDest struct{ t *time.Time }

func (d *timeDest) Scan(src any) error {
	t, err := timeOf(src)
	if err != nil {
		return err
	}
	*d.t = t
	return nil
}

type nullTimeDest struct{ t **time.Time }

func (d *nullTimeDest) Scan(src any) error {
	if src == nil {
		*d.t = nil
		return nil
	}
	t, err := timeOf(src)
	if err != nil {
		return err
	}
	*d.t = &t
	return nil
}

func timeOf(src any) (time.Time, error) {
	switch v := src.(type) {
	case int64:
		return time.Unix(0, v).UTC(), nil
	case time.Time:
		return v.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("scan time: unsupported %T", src)
}

// Value returns a nullable float's value, NaN for NULL: both stores keep
// NaN as NULL.
func Value(v *float64) float64 {
	if v == nil {
		return math.NaN()
	}
	return *v
}

// ScanRollouts reads rollouts from rows of (id, step, mode, prompt text,
// nullable prompt raw, messages, ts, created_at, nullable client id,
// nullable metadata, explicit group id), each
// store writing its own expressions for those columns, each rollout with an
// empty reward list for AttachRewards to fill.
func ScanRollouts(rows Rows, experimentID string, rawMessages bool) ([]*expt.Rollout, error) {
	out := []*expt.Rollout{}
	for rows.Next() {
		r := &expt.Rollout{ExperimentID: experimentID, Rewards: []expt.Reward{}}
		var raw, clientID, meta *string
		var msgs string
		if err := rows.Scan(&r.ID, &r.Step, &r.Mode, &r.Prompt, &raw, &msgs, &r.TS, Time(&r.CreatedAt), &clientID, &meta, &r.Group); err != nil {
			return nil, fmt.Errorf("scan rollout: %w", err)
		}
		if raw != nil {
			r.PromptRaw = json.RawMessage(*raw)
		}
		if clientID != nil {
			r.ClientID = *clientID
		}
		if meta != nil {
			r.Metadata = json.RawMessage(*meta)
		}
		if rawMessages {
			r.MessagesJSON = msgs
		} else {
			var err error
			if r.Messages, err = DecodeMessages(msgs); err != nil {
				return nil, fmt.Errorf("rollout %d: %w", r.ID, err)
			}
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select rollouts: %w", err)
	}
	return out, nil
}

// RolloutIDs lists the ids of rollouts, for the query of their rewards.
func RolloutIDs(list []*expt.Rollout) []int64 {
	ids := make([]int64, len(list))
	for i, r := range list {
		ids[i] = r.ID
	}
	return ids
}

// AttachRewards reads (rollout id, reward name, nullable value) rows, in
// the order the rewards were first logged, onto the rollouts of list.
func AttachRewards(rows Rows, list []*expt.Rollout) error {
	byID := make(map[int64]*expt.Rollout, len(list))
	for _, r := range list {
		byID[r.ID] = r
	}
	for rows.Next() {
		var id int64
		var name string
		var v *float64
		if err := rows.Scan(&id, &name, &v); err != nil {
			return fmt.Errorf("scan reward: %w", err)
		}
		if r := byID[id]; r != nil {
			r.Rewards = append(r.Rewards, expt.Reward{Name: name, Value: Value(v)})
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("select rewards: %w", err)
	}
	return nil
}

// GroupRewards sets exact reward stats on a page of groups from rows of
// (step, mode, prompt text, reward name, nullable value) over the page's
// step range; rows of groups not on the page are skipped.
func GroupRewards(rows Rows, groups []*expt.RolloutGroup) error {
	type groupKey struct {
		step              int64
		mode, prompt, grp string
	}
	vals := make(map[groupKey]map[string][]float64, len(groups))
	for _, g := range groups {
		vals[groupKey{g.Step, g.Mode, g.Prompt, g.Group}] = map[string][]float64{}
	}
	for rows.Next() {
		var k groupKey
		var name string
		var v *float64
		if err := rows.Scan(&k.step, &k.mode, &k.prompt, &k.grp, &name, &v); err != nil {
			return fmt.Errorf("scan group reward: %w", err)
		}
		if byName, ok := vals[k]; ok {
			byName[name] = append(byName[name], Value(v))
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("select group rewards: %w", err)
	}
	for _, g := range groups {
		byName := vals[groupKey{g.Step, g.Mode, g.Prompt, g.Group}]
		names := make([]string, 0, len(byName))
		for n := range byName {
			names = append(names, n)
		}
		sort.Strings(names)
		g.Rewards = make([]expt.RewardStats, len(names))
		for i, n := range names {
			g.Rewards[i] = RewardStatsOf(n, byName[n])
		}
	}
	return nil
}

// ExperimentColumns is the column list ScanExperiment reads, the same in
// both schemas.
const ExperimentColumns = `id, user_id, project_id, name, config, status, job_id, created_at, updated_at, latest_step, tags, notes, group_name`

// ScanExperiment reads one row of ExperimentColumns.
func ScanExperiment(row Row) (*expt.Experiment, error) {
	e := &expt.Experiment{}
	var config, tags string
	if err := row.Scan(&e.ID, &e.UserID, &e.ProjectID, &e.Name, &config, &e.Status, &e.JobID, Time(&e.CreatedAt), Time(&e.UpdatedAt), &e.LatestStep,
		&tags, &e.Notes, &e.Group); err != nil {
		return nil, err
	}
	e.Config = json.RawMessage(config)
	if err := json.Unmarshal([]byte(tags), &e.Tags); err != nil || e.Tags == nil {
		e.Tags = []string{}
	}
	return e, nil
}

// UserColumns is the column list ScanUser reads (users aliased u).
const UserColumns = `u.id, u.email, u.name, u.password_hash, u.created_at, u.is_admin, u.disabled, u.invited`

// ScanUser reads one row of UserColumns followed by the extra destinations.
func ScanUser(row Row, extra ...any) (*expt.User, error) {
	u := &expt.User{}
	if err := row.Scan(append([]any{&u.ID, &u.Email, &u.Name, &u.PasswordHash, Time(&u.CreatedAt), &u.Admin, &u.Disabled, &u.Invited}, extra...)...); err != nil {
		return nil, err
	}
	return u, nil
}

// APIKeyColumns is the column list ScanAPIKeys reads (keys aliased k).
const APIKeyColumns = `k.id, k.name, k.prefix, k.created_at, k.last_used_at, coalesce(k.project_id, 0), k.access`

// APIKeyDest returns the scan destinations of APIKeyColumns for k.
func APIKeyDest(k *expt.APIKey) []any {
	return []any{&k.ID, &k.Name, &k.Prefix, Time(&k.CreatedAt), NullTime(&k.LastUsedAt), &k.ProjectID, &k.Access}
}

// ScanAPIKeys reads rows of APIKeyColumns: the keys of user userID.
func ScanAPIKeys(rows Rows, userID int64) ([]*expt.APIKey, error) {
	keys := []*expt.APIKey{}
	for rows.Next() {
		k := &expt.APIKey{UserID: userID}
		if err := rows.Scan(APIKeyDest(k)...); err != nil {
			return nil, fmt.Errorf("scan api key: %w", err)
		}
		keys = append(keys, k)
	}
	return keys, rows.Err()
}

// RunErrorColumns is the column list ScanRunErrors reads.
const RunErrorColumns = `id, step, mode, message, type, traceback, ts, created_at`

// ScanRunErrors reads rows of RunErrorColumns.
func ScanRunErrors(rows Rows) ([]expt.RunError, error) {
	out := []expt.RunError{}
	for rows.Next() {
		var e expt.RunError
		if err := rows.Scan(&e.ID, &e.Step, &e.Mode, &e.Message, &e.Type, &e.Traceback, &e.TS, Time(&e.CreatedAt)); err != nil {
			return nil, fmt.Errorf("scan error: %w", err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select errors: %w", err)
	}
	return out, nil
}

// ScanEnvLogs reads rows of (id, content, created_at): the logs of one
// client rollout id.
func ScanEnvLogs(rows Rows, rolloutID string) ([]expt.EnvLog, error) {
	out := []expt.EnvLog{}
	for rows.Next() {
		l := expt.EnvLog{RolloutID: rolloutID}
		if err := rows.Scan(&l.ID, &l.Content, Time(&l.CreatedAt)); err != nil {
			return nil, fmt.Errorf("scan env log: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select env logs: %w", err)
	}
	return out, nil
}

// ScanExperiments reads rows of ExperimentColumns.
func ScanExperiments(rows Rows) ([]*expt.Experiment, error) {
	out := []*expt.Experiment{}
	for rows.Next() {
		e, err := ScanExperiment(rows)
		if err != nil {
			return nil, fmt.Errorf("scan experiment: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// lastUsedGranularity bounds how often a key's last_used_at is written:
// every request would otherwise turn a read into a write.
const lastUsedGranularity = time.Minute

// KeyUseStale reports whether a key used at now should have its last use
// written again.
func KeyUseStale(k *expt.APIKey, now time.Time) bool {
	return k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) > lastUsedGranularity
}
