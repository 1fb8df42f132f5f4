package storekit

import "github.com/expt-logger/expt"

// RewardSort is how a store pages rollouts sorted by one reward: the
// rollouts with a value first, by value, ties by id, then those without a
// value (missing or NaN) in id order. The two parts are two queries so that
// the first can walk the store's (name, value) index in order instead of
// sorting every rollout of the experiment.
type RewardSort struct {
	// Known is false when the experiment never logged the reward: every
	// rollout is then in the second part.
	Known bool
	// Valued reads up to n rollouts with a value, skipping offset of them.
	Valued func(n, offset int) ([]*expt.Rollout, error)
	// CountValued counts the rollouts with a value; it is asked only when
	// the page starts past all of them.
	CountValued func() (int, error)
	// Rest reads up to n rollouts without a value, skipping offset of them.
	Rest func(n, offset int) ([]*expt.Rollout, error)
}

// Page returns the page of limit rollouts at offset, and whether more follow.
func (s RewardSort) Page(limit, offset int) ([]*expt.Rollout, bool, error) {
	want := limit + 1
	var list []*expt.Rollout
	valued := 0 // counted only when the page starts past the valued part
	if s.Known {
		var err error
		if list, err = s.Valued(want, offset); err != nil {
			return nil, false, err
		}
		if len(list) == 0 && offset > 0 {
			if valued, err = s.CountValued(); err != nil {
				return nil, false, err
			}
		}
	}
	if len(list) < want {
		off := 0
		if len(list) == 0 {
			off = offset - valued
		}
		rest, err := s.Rest(want-len(list), off)
		if err != nil {
			return nil, false, err
		}
		list = append(list, rest...)
	}
	list, more := Page(list, limit)
	return list, more, nil
}
