// Package expt is the domain of the expt-logger tracking server: experiments,
// scalar metrics and RL rollouts owned by users, and the store interfaces that
// the sqlite and postgres packages implement. It holds no SQL and no HTTP.
package expt

import "context"

// MetaStore keeps who may see what: users, API keys, sessions and
// experiments. Callers that only authenticate or list runs need no more.
type MetaStore interface {
	UserStore
	ProjectStore
	ExperimentStore
}

// DataStore keeps what runs log: scalars, rollouts and run logs. Callers
// check that the experiment is the user's (MetaStore) first.
type DataStore interface {
	ScalarStore
	RolloutStore
	RunLogStore
	PointReader
}

// Store is one database: both halves, what the servers on it share, its
// health, and Close. One implementation per database lives in its own
// package (sqlite/, postgres/), and every one of them passes the same
// conformance suite (storetest/).
type Store interface {
	MetaStore
	DataStore
	Replication
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// StorageFull reports whether err is the database's storage being
	// full (a write that can succeed once space is freed).
	StorageFull(err error) bool
	Close() error
}

// Version is set at build time with -ldflags "-X github.com/expt-logger/expt.Version=...".
var Version = "dev"
