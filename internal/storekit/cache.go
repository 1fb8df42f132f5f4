package storekit

import "sync"

// IDs caches row ids by experiment row id and a key (a series name, a
// reward name, a prompt), so that a batch does not look each one up. Ids
// only disappear with their experiment, so an entry stays valid until
// Forget drops the experiment. A rolled-back transaction may have seen ids
// of rows that do not exist: writers collect new ids in a Pending and Put
// them only after commit.
type IDs[K comparable] struct {
	mu sync.Mutex
	m  map[int64]map[K]int64
}

// Get returns the cached id of (exp, k).
func (c *IDs[K]) Get(exp int64, k K) (int64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	id, ok := c.m[exp][k]
	return id, ok
}

// Put caches every id of p, which belongs to experiment exp.
func (c *IDs[K]) Put(exp int64, p Pending[K]) {
	if len(p) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, id := range p {
		c.putLocked(exp, k, id)
	}
}

// PutOne caches one id.
func (c *IDs[K]) PutOne(exp int64, k K, id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.putLocked(exp, k, id)
}

func (c *IDs[K]) putLocked(exp int64, k K, id int64) {
	if c.m == nil {
		c.m = map[int64]map[K]int64{}
	}
	byKey := c.m[exp]
	if byKey == nil {
		byKey = map[K]int64{}
		c.m[exp] = byKey
	}
	byKey[k] = id
}

// Load returns the id of (exp, k) from the cache, or from load, caching what
// load finds. ok is false when load finds none.
func (c *IDs[K]) Load(exp int64, k K, load func() (id int64, ok bool, err error)) (int64, bool, error) {
	if id, ok := c.Get(exp, k); ok {
		return id, true, nil
	}
	id, ok, err := load()
	if err != nil || !ok {
		return 0, false, err
	}
	c.PutOne(exp, k, id)
	return id, true, nil
}

// Forget drops everything cached about experiments exps.
func (c *IDs[K]) Forget(exps map[int64]bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for exp := range exps {
		delete(c.m, exp)
	}
}

// Pending holds the ids a transaction created, for IDs.Put after commit.
type Pending[K comparable] map[K]int64

// Lookup returns the id of k from p, else from the cache of experiment exp.
func (p Pending[K]) Lookup(c *IDs[K], exp int64, k K) (int64, bool) {
	if id, ok := p[k]; ok {
		return id, true
	}
	return c.Get(exp, k)
}

// SeriesName names a metric of an experiment, the key of its series id.
type SeriesName struct{ Mode, Name string }
