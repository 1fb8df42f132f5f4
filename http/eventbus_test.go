package http

import (
	"context"
	"testing"

	"github.com/expt-logger/expt"
)

func TestEventBus(t *testing.T) {
	bus := NewEventBus()
	ctx := context.Background()
	a, cancelA := bus.Subscribe("exp-1")
	b, cancelB := bus.Subscribe("exp-1")
	other, cancelOther := bus.Subscribe("exp-2")
	defer cancelOther()

	bus.Publish(ctx, expt.Event{Type: expt.EventScalars, ExperimentID: "exp-1", Scalars: []expt.Scalar{{Step: 1}}})
	for _, ch := range []<-chan expt.Event{a, b} {
		if ev := <-ch; ev.Type != expt.EventScalars || ev.Scalars[0].Step != 1 {
			t.Errorf("got %+v", ev)
		}
	}
	select {
	case ev := <-other:
		t.Errorf("other experiment's watcher got %+v", ev)
	default:
	}

	cancelA()
	cancelA() // idempotent
	if _, ok := <-a; ok {
		t.Error("cancelled channel still open")
	}

	// b stops reading: publishing past its buffer drops it instead of blocking.
	for i := 0; i < subscriberBuffer+1; i++ {
		bus.Publish(ctx, expt.Event{Type: expt.EventScalars, ExperimentID: "exp-1"})
	}
	n := 0
	for range b {
		n++
	}
	if n != subscriberBuffer {
		t.Errorf("slow watcher got %d events before its channel closed, want %d", n, subscriberBuffer)
	}
	cancelB() // after being dropped: must not panic
}
