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
	// Subscribe returns a channel of the experiment's events and a function
	// that ends the subscription. A watcher too slow to keep up loses events
	// rather than slowing writers, and is told so by a closed channel.
	Subscribe(experimentID string) (<-chan Event, func())
}
