package expt

import "context"

// Event types on the live stream of one experiment.
const (
	EventScalars    = "scalars"
	EventRollouts   = "rollouts"
	EventExperiment = "experiment"
)

// Event tells the watchers of an experiment that something was written. It
// carries the new data itself so that a chart appends it without refetching.
type Event struct {
	Type         string
	ExperimentID string
	Scalars      []Scalar    // EventScalars
	Rollouts     []*Rollout  // EventRollouts
	Experiment   *Experiment // EventExperiment: the experiment after the change
}

// EventBus fans events out to the watchers of an experiment. The in-process
// bus serves one server; the postgres package provides one that also reaches
// the other replicas.
type EventBus interface {
	Publish(ctx context.Context, e Event)
	// Subscribe returns the experiment's events from now on, or, with the
	// ID of the last event a watcher saw (lastID), from right after it when
	// the bus still has them. A watcher too slow to keep up is dropped
	// rather than slowing writers, and is told so by a closed channel; it
	// resumes by subscribing again with its last ID.
	Subscribe(experimentID, lastID string) Subscription
}

// Subscription is one watcher's stream of an experiment's events.
type Subscription struct {
	Events <-chan Delivered
	// Resumed is false when lastID was given but the events after it are
	// no longer kept (or it names another server's stream): the watcher
	// has missed some and must refetch.
	Resumed bool
	Cancel  func()
}

// Delivered is an event as the live stream sends it: encoded once by the
// bus and shared by every watcher, whatever their number.
type Delivered struct {
	ID    string // the stream position, for resuming
	Event Event
	Data  []byte // the event's JSON
}
