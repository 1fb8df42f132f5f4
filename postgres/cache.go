package postgres

import "sync"

// cache maps names to row ids so that a batch does not look each name up.
// Keys include the experiment's pk, which PostgreSQL never reuses, so an
// entry can only go stale by its experiment being deleted, after which no
// write reaches it (writers resolve the pk afresh in their transaction).
// Experiment pks themselves are not cached: another replica may delete an
// experiment at any time. Writers add entries only after commit.
type cache struct {
	mu      sync.Mutex
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
	exp int64
	sha string // sha256 of the prompt text
}

func newCache() *cache {
	return &cache{series: map[seriesKey]int64{}, rewards: map[nameKey]int64{}, prompts: map[promptKey]int64{}}
}

// forget drops everything cached about experiment pks (memory only:
// stale entries are never used, see above).
func (c *cache) forget(pks map[int64]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
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
