package storekit

import (
	"context"
	"errors"
	"fmt"

	"github.com/expt-logger/expt"
)

// The flows below run the same SQL on both engines (placeholders aside);
// where the engines' SQL differs, the store passes its own.

// QueryID runs a query of one id; ok is false for no row. what names the
// thing in errors.
func QueryID(ctx context.Context, c Conn, what, sql string, args ...any) (id int64, ok bool, err error) {
	ok, err = Found(c.QueryRow(ctx, sql, args...).Scan(&id))
	if err != nil {
		err = fmt.Errorf("select %s: %w", what, err)
	}
	return id, ok, err
}

// QueryUser reads the user of a query of UserColumns (users aliased u)
// ending in where; what names the user in the not-found error.
func QueryUser(ctx context.Context, c Conn, what, where string, args ...any) (*expt.User, error) {
	u, err := ScanUser(c.QueryRow(ctx, `SELECT `+UserColumns+` FROM users u `+where, args...))
	if errors.Is(err, ErrNoRows) {
		return nil, expt.Errorf(expt.ENOTFOUND, "user %s not found", what)
	} else if err != nil {
		return nil, fmt.Errorf("select user: %w", err)
	}
	return u, nil
}

// QueryRollouts runs a query of the columns ScanRollouts reads, then
// attaches the rollouts' rewards with one more query. raw keeps each
// rollout's messages as the stored JSON array (MessagesJSON) without
// splitting them, as an export wants them.
func QueryRollouts(ctx context.Context, c Conn, experimentID string, raw bool, sql string, args ...any) ([]*expt.Rollout, error) {
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		return nil, c.SearchError(fmt.Errorf("select rollouts: %w", err))
	}
	out, err := ScanRollouts(rows, experimentID, raw)
	rows.Close()
	if err != nil || len(out) == 0 {
		return out, c.SearchError(err)
	}
	w := NewWhere(c.Dollar())
	rw, err := c.Query(ctx, `SELECT w.rollout_id, n.name, w.value FROM rewards w JOIN reward_names n ON n.id = w.name_id
		WHERE `+In(w, "w.rollout_id", RolloutIDs(out))+` ORDER BY w.rollout_id, w.name_id`, w.Args...)
	if err != nil {
		return nil, fmt.Errorf("select rewards: %w", err)
	}
	err = AttachRewards(rw, out)
	rw.Close()
	if err != nil {
		return nil, err
	}
	return out, attachTokenCounts(ctx, c, out)
}

// attachTokenCounts sets the token count of the rollouts that have tokens:
// one lookup by primary key per page, the records themselves unread.
func attachTokenCounts(ctx context.Context, c Conn, list []*expt.Rollout) error {
	w := NewWhere(c.Dollar())
	rows, err := c.Query(ctx, `SELECT rollout_id, tokens FROM rollout_tokens WHERE `+In(w, "rollout_id", RolloutIDs(list)), w.Args...)
	if err != nil {
		return fmt.Errorf("select token counts: %w", err)
	}
	defer rows.Close()
	byID := make(map[int64]*expt.Rollout, len(list))
	for _, r := range list {
		byID[r.ID] = r
	}
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return fmt.Errorf("scan token count: %w", err)
		}
		if r := byID[id]; r != nil {
			r.TokenCount = n
		}
	}
	return rows.Err()
}

// QueryRollout is QueryRollouts for a query of rollout id: ENOTFOUND when
// it finds none.
func QueryRollout(ctx context.Context, c Conn, experimentID string, id int64, sql string, args ...any) (*expt.Rollout, error) {
	list, err := QueryRollouts(ctx, c, experimentID, false, sql, args...)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, expt.Errorf(expt.ENOTFOUND, "rollout %d not found", id)
	}
	return list[0], nil
}

// SearchGroups pages the groups of the rollouts f matches (rollouts r,
// prompts p), grouped and ordered by the store's groupOrder clause (its
// collation decides the prompt order), with their exact rewards.
func SearchGroups(ctx context.Context, c Conn, f *Where, groupOrder string, limit, offset int) ([]*expt.RolloutGroup, bool, error) {
	g := f.Clone()
	lim, off := g.Bind(limit+1), g.Bind(offset)
	rows, err := c.Query(ctx, `SELECT r.step, r.mode, p.text, p.grp, count(*) FROM rollouts r JOIN prompts p ON p.id = r.prompt_id
		WHERE `+g.SQL()+` `+groupOrder+` LIMIT `+lim+` OFFSET `+off, g.Args...)
	if err != nil {
		return nil, false, c.SearchError(fmt.Errorf("select groups: %w", err))
	}
	groups, err := ScanGroups(rows)
	rows.Close()
	if err != nil {
		return nil, false, c.SearchError(err)
	}
	groups, more := Page(groups, limit)
	if err := QueryGroupRewards(ctx, c, f, groups); err != nil {
		return nil, false, c.SearchError(err)
	}
	return groups, more, nil
}

// QueryGroupRewards sets exact reward stats on a page of groups with one
// query over the page's step range (rollouts matching f), rather than one
// query per group.
func QueryGroupRewards(ctx context.Context, c Conn, f *Where, groups []*expt.RolloutGroup) error {
	if len(groups) == 0 {
		return nil
	}
	f = f.Clone()
	lo, hi := f.Bind(groups[0].Step), f.Bind(groups[len(groups)-1].Step)
	rows, err := c.Query(ctx, `SELECT r.step, r.mode, p.text, p.grp, n.name, w.value FROM rollouts r JOIN prompts p ON p.id = r.prompt_id
		JOIN rewards w ON w.rollout_id = r.id JOIN reward_names n ON n.id = w.name_id
		WHERE `+f.SQL()+` AND r.step BETWEEN `+lo+` AND `+hi, f.Args...)
	if err != nil {
		return fmt.Errorf("select group rewards: %w", err)
	}
	defer rows.Close()
	return GroupRewards(rows, groups)
}

// QueryMetrics reads a query of (mode, name, count, last step).
func QueryMetrics(ctx context.Context, c Conn, sql string, args ...any) ([]expt.Metric, error) {
	rows, err := c.Query(ctx, sql, args...)
	if err != nil {
		return nil, fmt.Errorf("select metrics: %w", err)
	}
	defer rows.Close()
	out := []expt.Metric{}
	for rows.Next() {
		var m expt.Metric
		if err := rows.Scan(&m.Mode, &m.Name, &m.Count, &m.LastStep); err != nil {
			return nil, fmt.Errorf("scan metric: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select metrics: %w", err)
	}
	return out, nil
}

// QueryScalars returns every point of every metric of one mode of the
// experiment with row id pk.
func QueryScalars(ctx context.Context, c Conn, pk int64, mode string) (map[string][]expt.Point, error) {
	w := NewWhere(c.Dollar())
	rows, err := c.Query(ctx, `SELECT s.name, p.step, p.value, p.ts FROM series s JOIN points p ON p.series_id = s.id
		WHERE s.experiment = `+w.Bind(pk)+` AND s.mode = `+w.Bind(mode)+` ORDER BY s.name, p.step`, w.Args...)
	if err != nil {
		return nil, fmt.Errorf("select scalars: %w", err)
	}
	defer rows.Close()
	out := map[string][]expt.Point{}
	for rows.Next() {
		var name string
		var p expt.Point
		var v *float64
		if err := rows.Scan(&name, &p.Step, &v, &p.TS); err != nil {
			return nil, fmt.Errorf("scan scalar: %w", err)
		}
		p.Value = Value(v)
		out[name] = append(out[name], p)
	}
	return out, rows.Err()
}

// QueryRunErrors returns a page of the errors of the experiment with row
// id pk, oldest first, and whether more follow; limit <= 0 means 50.
func QueryRunErrors(ctx context.Context, c Conn, pk int64, limit, offset int) ([]expt.RunError, bool, error) {
	if limit <= 0 {
		limit = 50
	}
	w := NewWhere(c.Dollar())
	rows, err := c.Query(ctx, `SELECT `+RunErrorColumns+` FROM run_errors WHERE experiment = `+w.Bind(pk)+
		` ORDER BY id LIMIT `+w.Bind(limit+1)+` OFFSET `+w.Bind(max(offset, 0)), w.Args...)
	if err != nil {
		return nil, false, fmt.Errorf("select errors: %w", err)
	}
	defer rows.Close()
	out, err := ScanRunErrors(rows)
	if err != nil {
		return nil, false, err
	}
	out, more := Page(out, limit)
	return out, more, nil
}

// QueryKeyOwner finds the key with this hash and its owner.
func QueryKeyOwner(ctx context.Context, c Conn, hash []byte) (*expt.User, *expt.APIKey, error) {
	k := &expt.APIKey{}
	w := NewWhere(c.Dollar())
	u, err := ScanUser(c.QueryRow(ctx, `SELECT `+UserColumns+`, `+APIKeyColumns+`
		FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.hash = `+w.Bind(hash), w.Args...), APIKeyDest(k)...)
	if errors.Is(err, ErrNoRows) {
		return nil, nil, expt.Errorf(expt.ENOTFOUND, "api key not found")
	} else if err != nil {
		return nil, nil, fmt.Errorf("select api key: %w", err)
	}
	k.UserID = u.ID
	return u, k, nil
}

// QueryAPIKeys lists a user's keys, oldest first.
func QueryAPIKeys(ctx context.Context, c Conn, userID int64) ([]*expt.APIKey, error) {
	w := NewWhere(c.Dollar())
	rows, err := c.Query(ctx, `SELECT `+APIKeyColumns+` FROM api_keys k
		WHERE k.user_id = `+w.Bind(userID)+` ORDER BY k.created_at, k.id`, w.Args...)
	if err != nil {
		return nil, fmt.Errorf("select api keys: %w", err)
	}
	defer rows.Close()
	return ScanAPIKeys(rows, userID)
}

// StepRange clips [from, to] to the steps series sid has; ok is false
// when no point can be in it.
func StepRange(ctx context.Context, c Conn, sid int64, from, to *int64) (lo, hi int64, ok bool, err error) {
	var first, last *int64
	w := NewWhere(c.Dollar())
	err = c.QueryRow(ctx, `SELECT (SELECT step FROM points WHERE series_id = `+w.Bind(sid)+` ORDER BY step LIMIT 1),
		(SELECT step FROM points WHERE series_id = `+w.Bind(sid)+` ORDER BY step DESC LIMIT 1)`, w.Args...).Scan(&first, &last)
	if err != nil {
		return 0, 0, false, fmt.Errorf("select step range: %w", err)
	}
	if first == nil {
		return 0, 0, false, nil
	}
	lo, hi = *first, *last
	if from != nil {
		lo = max(lo, *from)
	}
	if to != nil {
		hi = min(hi, *to)
	}
	return lo, hi, lo <= hi, nil
}
