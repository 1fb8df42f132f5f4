package http

import (
	"context"
	"sync"

	"github.com/expt-logger/expt"
)

// subscriberBuffer is how many events a watcher may fall behind before it
// is dropped; a browser tab that stops reading must never slow a writer.
const subscriberBuffer = 256

// eventBus is the in-process expt.EventBus.
type eventBus struct {
	mu   sync.Mutex
	subs map[string]map[*subscriber]struct{}
}

type subscriber struct {
	ch     chan expt.Event
	closed bool // guarded by eventBus.mu
}

// NewEventBus returns an in-process fan-out of events to subscribers.
func NewEventBus() expt.EventBus {
	return &eventBus{subs: make(map[string]map[*subscriber]struct{})}
}

// Publish hands e to every watcher of its experiment without blocking: a
// watcher whose buffer is full is dropped and its channel closed.
func (b *eventBus) Publish(_ context.Context, e expt.Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for sub := range b.subs[e.ExperimentID] {
		select {
		case sub.ch <- e:
		default:
			b.removeLocked(e.ExperimentID, sub)
		}
	}
}

func (b *eventBus) Subscribe(experimentID string) (<-chan expt.Event, func()) {
	sub := &subscriber{ch: make(chan expt.Event, subscriberBuffer)}
	b.mu.Lock()
	set := b.subs[experimentID]
	if set == nil {
		set = make(map[*subscriber]struct{})
		b.subs[experimentID] = set
	}
	set[sub] = struct{}{}
	b.mu.Unlock()
	return sub.ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.removeLocked(experimentID, sub)
	}
}

func (b *eventBus) removeLocked(experimentID string, sub *subscriber) {
	if sub.closed {
		return
	}
	sub.closed = true
	close(sub.ch)
	set := b.subs[experimentID]
	delete(set, sub)
	if len(set) == 0 {
		delete(b.subs, experimentID)
	}
}
