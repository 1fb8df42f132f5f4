package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/expt-logger/expt"
)

// cache maps names to row ids so that a batch does not look each name up.
// Ids only ever disappear with their experiment, so entries stay valid
// until DeleteExperiments drops them; a rolled-back transaction may leave
// ids of rows that do not exist, so writers add to the cache only after commit.
type cache struct {
	mu      sync.Mutex
	exps    map[string]int64 // uuid -> experiments.pk
	series  map[seriesKey]int64
	rewards map[nameKey]int64
	prompts map[promptKey]int64
}

type seriesKey struct {
	exp        int64
	mode, name string
}

type nameKey struct {
	exp  int64
	name string
}

type promptKey struct {
	exp       int64
	text, raw string
}

func newCache() *cache {
	return &cache{
		exps:    map[string]int64{},
		series:  map[seriesKey]int64{},
		rewards: map[nameKey]int64{},
		prompts: map[promptKey]int64{},
	}
}

// forget drops everything cached about experiment pks.
func (c *cache) forget(uuids []string, pks map[int64]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range uuids {
		delete(c.exps, id)
	}
	for k := range c.series {
		if pks[k.exp] {
			delete(c.series, k)
		}
	}
	for k := range c.rewards {
		if pks[k.exp] {
			delete(c.rewards, k)
		}
	}
	for k := range c.prompts {
		if pks[k.exp] {
			delete(c.prompts, k)
		}
	}
}

// experimentPK resolves an experiment uuid to its row id; ENOTFOUND when missing.
func (db *DB) experimentPK(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string) (int64, error) {
	db.cache.mu.Lock()
	pk, ok := db.cache.exps[id]
	db.cache.mu.Unlock()
	if ok {
		return pk, nil
	}
	err := q.QueryRowContext(ctx, `SELECT pk FROM experiments WHERE id = ?`, id).Scan(&pk)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, expt.Errorf(expt.ENOTFOUND, "experiment %q not found", id)
	} else if err != nil {
		return 0, fmt.Errorf("select experiment: %w", err)
	}
	db.cache.mu.Lock()
	db.cache.exps[id] = pk
	db.cache.mu.Unlock()
	return pk, nil
}
