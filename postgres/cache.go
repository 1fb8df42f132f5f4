package postgres

import "github.com/expt-logger/expt/internal/storekit"

// cache maps names to row ids so that a batch does not look each name up
// (storekit.IDs). Keys include the experiment's pk, which PostgreSQL never
// reuses, so an entry can only go stale by its experiment being deleted,
// after which no write reaches it (writers resolve the pk afresh in their
// transaction). Experiment pks themselves are not cached: another replica
// may delete an experiment at any time. Writers add entries only after commit.
type cache struct {
	series  storekit.IDs[storekit.SeriesName]
	rewards storekit.IDs[string]
	prompts storekit.IDs[string] // by sha256 of the prompt text
}

func newCache() *cache { return &cache{} }

// forget drops everything cached about experiment pks (memory only:
// stale entries are never used, see above).
func (c *cache) forget(pks map[int64]bool) {
	c.series.Forget(pks)
	c.rewards.Forget(pks)
	c.prompts.Forget(pks)
}
