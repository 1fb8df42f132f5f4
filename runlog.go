package expt

import (
	"context"
	"time"
)

// RunError is an error the training process reported (the published
// client's log_error): shown beside the charts so a crashed reward model or
// a NaN loss has its traceback next to the step where it happened.
type RunError struct {
	ID        int64
	Step      *int64
	Mode      string
	Message   string
	Type      string
	Traceback string
	TS        float64
	CreatedAt time.Time
}

// EnvLog is text an environment produced while scoring one rollout (the
// published client's log_environment), keyed by the client's rollout id.
type EnvLog struct {
	ID        int64
	RolloutID string
	Content   string
	CreatedAt time.Time
}

// RunLogStore keeps reported errors and environment logs. Callers check
// that the experiment is the user's; idemKey works as in WriteScalars.
type RunLogStore interface {
	WriteErrors(ctx context.Context, experimentID string, batch []RunError, idemKey string) (applied bool, err error)
	// Errors returns an experiment's errors in the order they were logged.
	Errors(ctx context.Context, experimentID string, offset, limit int) (page []RunError, more bool, err error)
	WriteEnvLogs(ctx context.Context, experimentID string, batch []EnvLog, idemKey string) (applied bool, err error)
	// EnvLogs returns the logs of one client rollout id, in logging order.
	EnvLogs(ctx context.Context, experimentID, rolloutID string) ([]EnvLog, error)
}
