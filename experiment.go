package expt

import (
	"context"
	"encoding/json"
	"time"
)

// Experiment statuses, as the original platform names them.
const (
	StatusActive   = "active"
	StatusComplete = "complete"
	StatusFailed   = "failed" // the script ended through an uncaught exception
)

// Experiment is one training run.
type Experiment struct {
	ID         string // UUID, possibly chosen by the SDK
	UserID     int64
	Name       string
	Config     json.RawMessage // a JSON object; {} when none
	Status     string
	JobID      string
	CreatedAt  time.Time
	UpdatedAt  time.Time // also moved by every accepted batch
	LatestStep *int64    // highest step of any scalar or rollout; nil when none
	// Tags, Notes and Group tell runs apart (W&B's names): Group gathers
	// the processes of one distributed job.
	Tags  []string // never nil once stored
	Notes string
	Group string
}

// ExperimentUpdate changes the fields that are not nil.
type ExperimentUpdate struct {
	Name   *string
	Config json.RawMessage // replaces the whole config, as the client sends it whole
	Status *string
	Tags   *[]string // replaces the tags
	Notes  *string
}

// Experiment list sort keys.
const (
	SortCreated    = "created"
	SortUpdated    = "updated"
	SortName       = "name"
	SortLatestStep = "latestStep"
)

// ExperimentFilter selects and orders a page of one user's experiments.
type ExperimentFilter struct {
	UserID int64
	Query  string // case-insensitive substring of the name
	Status string // "" for any
	Sort   string // one of the Sort* keys; SortCreated when empty
	Desc   bool
	Offset int
	Limit  int    // 0 means the store's default (50)
	Tag    string // "" for any; else only experiments with this tag
	// WithoutConfig leaves each experiment's config out (empty): a list
	// page must not cost the size of every config on it.
	WithoutConfig bool
}

// ExperimentStore keeps experiments. Every method is scoped to a user: an
// experiment of another user is ENOTFOUND, never a different error.
type ExperimentStore interface {
	// CreateExperiment stores e (ID set by the caller; CreatedAt, UpdatedAt,
	// Status and Config defaulted when empty). When an experiment with e.ID
	// already belongs to e.UserID it loads it into e and returns created=false;
	// when it belongs to another user it returns ECONFLICT.
	CreateExperiment(ctx context.Context, e *Experiment) (created bool, err error)
	Experiment(ctx context.Context, userID int64, id string) (*Experiment, error)
	UpdateExperiment(ctx context.Context, userID int64, id string, upd ExperimentUpdate) (*Experiment, error)
	// Experiments returns one page and the total number matching the filter.
	Experiments(ctx context.Context, f ExperimentFilter) ([]*Experiment, int, error)
	// DeleteExperiments deletes those of ids owned by userID, with all their
	// data, and returns how many.
	DeleteExperiments(ctx context.Context, userID int64, ids []string) (int, error)
}
