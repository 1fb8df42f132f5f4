// Package expt is the domain of the expt-logger tracking server: experiments,
// scalar metrics and RL rollouts owned by users, and the store interfaces that
// the sqlite and postgres packages implement. It holds no SQL and no HTTP.
package expt

import "context"

// Store is everything the server needs from a database. One implementation
// per database lives in its own package (sqlite/, postgres/), and every one
// of them passes the same conformance suite (storetest/).
type Store interface {
	UserStore
	ExperimentStore
	ScalarStore
	RolloutStore
	RunLogStore
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	Close() error
}

// Version is set at build time with -ldflags "-X github.com/expt-logger/expt.Version=...".
var Version = "dev"
