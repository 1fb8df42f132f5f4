package expt

import (
	"context"
	"time"
)

// Throttle limits failed sign-ins per key (email and client address). The
// HTTP server's in-process one serves a single server; servers sharing a
// database share one through Replication, or each would allow its own guesses.
type Throttle interface {
	// Blocked returns how long key must wait, 0 when it may try now.
	Blocked(ctx context.Context, key string, now time.Time) (time.Duration, error)
	// Fail counts a failed attempt.
	Fail(ctx context.Context, key string, now time.Time) error
	// Reset forgets key's failures after a successful sign-in.
	Reset(ctx context.Context, key string) error
}

// Sign-in limits: 10 failures per email and address in 15 minutes.
const (
	SignInMaxFailures = 10
	SignInWindow      = 15 * time.Minute
)

// Shared is what the servers of one database share besides its rows: live
// events that reach every server's watchers, and the count of failed
// sign-ins. A nil field means the server's in-process one will do.
type Shared struct {
	Events   EventBus
	Throttle Throttle
	// Close stops what Shared started (listeners); nil when nothing.
	Close func() error
}

// Replication is the seam for running several servers on one database.
type Replication interface {
	// Shared returns what servers on this database share. local is the
	// server's in-process bus, which a shared bus delivers into. A database
	// that only one server opens (SQLite) returns the zero Shared.
	Shared(ctx context.Context, local EventBus) (Shared, error)
}
