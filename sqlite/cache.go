package sqlite

import (
	"context"
	"sync"

	"github.com/expt-logger/expt/internal/storekit"
)

// cache maps names to row ids so that a batch does not look each name up
// (see storekit.IDs). Experiment uuids map to their row ids here too: one
// process writes this file, so an experiment can only disappear through
// DeleteExperiments, which forgets it.
type cache struct {
	series  storekit.IDs[storekit.SeriesName]
	rewards storekit.IDs[string]
	prompts storekit.IDs[promptKey]

	mu   sync.Mutex
	exps map[string]int64 // uuid -> experiments.pk
}

// seriesKey is a series of any experiment, for the group commit's batches.
type seriesKey struct {
	exp int64
	storekit.SeriesName
}

// promptKey is a prompt as logged: its text, for a message object its raw
// JSON, and its explicit group id ("" for none).
type promptKey struct{ text, raw, grp string }

func newCache() *cache { return &cache{exps: map[string]int64{}} }

// forget drops everything cached about experiments uuids, whose row ids are pks.
func (c *cache) forget(uuids []string, pks map[int64]bool) {
	c.mu.Lock()
	for _, id := range uuids {
		delete(c.exps, id)
	}
	c.mu.Unlock()
	c.series.Forget(pks)
	c.rewards.Forget(pks)
	c.prompts.Forget(pks)
}

func (c *cache) experiment(id string) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	pk, ok := c.exps[id]
	return pk, ok
}

func (c *cache) putExperiment(id string, pk int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.exps[id] = pk
}

// experimentPK resolves an experiment uuid to its row id; ENOTFOUND when missing.
func (db *DB) experimentPK(ctx context.Context, c storekit.Conn, id string) (int64, error) {
	if pk, ok := db.cache.experiment(id); ok {
		return pk, nil
	}
	pk, err := storekit.ExperimentPK(ctx, c, id, "")
	if err != nil {
		return 0, err
	}
	db.cache.putExperiment(id, pk)
	return pk, nil
}
