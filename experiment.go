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
	StatusFailed   = "failed"  // the script ended through an uncaught exception or a non-zero exit
	StatusCrashed  = "crashed" // the SDK's heartbeat stopped while the run was active
)

// ValidStatus reports whether s is a status a run can have.
func ValidStatus(s string) bool {
	switch s {
	case StatusActive, StatusComplete, StatusFailed, StatusCrashed:
		return true
	}
	return false
}

// ConfigMatch selects experiments whose config holds Value at Path, compared
// as JSON values: 3e-6 matches 0.000003, "3e-6" only the string.
type ConfigMatch struct {
	Path  []string
	Value json.RawMessage // a JSON scalar: number, string, true, false or null
}

// MetricKey names one series: train/loss is {train, loss}.
type MetricKey struct{ Mode, Name string }

// MaxConfigMatches and MaxMetricColumns bound what one list request may ask.
const (
	MaxConfigMatches = 8
	MaxMetricColumns = 20
)

// Experiment is one training run.
type Experiment struct {
	ID         string // UUID, possibly chosen by the SDK
	UserID     int64  // who created it
	ProjectID  int64
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

// ExperimentFilter selects and orders a page of the experiments of some projects.
type ExperimentFilter struct {
	Projects []int64 // the projects to list; none lists nothing
	Query    string  // case-insensitive substring of the name
	Status   string  // "" for any
	Sort     string  // one of the Sort* keys; SortCreated when empty
	Desc     bool
	Offset   int
	// After pages by key: only the experiments after this one in the
	// order asked for (its sort field and id are what count), so paging
	// through thousands costs what the first page does. Not with Offset.
	After  *Experiment
	Limit  int           // 0 means the store's default (50)
	Tag    string        // "" for any; else only experiments with this tag
	Config []ConfigMatch // all must hold
	// WithoutConfig leaves each experiment's config out (empty): a list
	// page must not cost the size of every config on it.
	WithoutConfig bool
}

// ExperimentStore keeps experiments. Who may see which is decided by the
// caller from the experiment's project (ProjectStore.Role).
type ExperimentStore interface {
	// CreateExperiment stores e (ID and UserID set by the caller; ProjectID
	// is UserID's personal project when 0; CreatedAt, UpdatedAt, Status and
	// Config defaulted when empty). When an
	// experiment with e.ID exists it loads it into e and returns
	// created=false: the caller decides whether this caller may resume it.
	CreateExperiment(ctx context.Context, e *Experiment) (created bool, err error)
	Experiment(ctx context.Context, id string) (*Experiment, error) // ENOTFOUND
	UpdateExperiment(ctx context.Context, id string, upd ExperimentUpdate) (*Experiment, error)
	// Experiments returns one page and the total number matching the filter.
	Experiments(ctx context.Context, f ExperimentFilter) ([]*Experiment, int, error)
	// DeleteExperiments deletes those of ids that are in one of projects,
	// with all their data, and returns how many.
	DeleteExperiments(ctx context.Context, projects []int64, ids []string) (int, error)
	// Heartbeat notes that the run's process is alive at at; a run marked
	// crashed is active again (its process was only unreachable).
	Heartbeat(ctx context.Context, id string, at time.Time) (e *Experiment, revived bool, err error)
	// MarkCrashed marks crashed every active run whose last heartbeat is
	// older than silentSince, and returns them.
	MarkCrashed(ctx context.Context, silentSince time.Time) ([]*Experiment, error)
	// LastValues returns, per experiment id, the value at the highest step
	// of each of metrics that it has (the run table's metric columns).
	LastValues(ctx context.Context, ids []string, metrics []MetricKey) (map[string]map[MetricKey]float64, error)
}
