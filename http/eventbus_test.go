package http

import (
	"context"
	"strings"
	"testing"

	"github.com/expt-logger/expt"
)

func TestEventBus(t *testing.T) {
	bus := NewEventBus()
	ctx := context.Background()
	a := bus.Subscribe("exp-1", "")
	b := bus.Subscribe("exp-1", "")
	other := bus.Subscribe("exp-2", "")
	defer other.Cancel()

	bus.Publish(ctx, expt.Event{Type: expt.EventScalars, ExperimentID: "exp-1", Scalars: []expt.Scalar{{Step: 1}}})
	var datas [][]byte
	for _, s := range []expt.Subscription{a, b} {
		d := <-s.Events
		if d.Event.Type != expt.EventScalars || d.Event.Scalars[0].Step != 1 || !strings.Contains(string(d.Data), `"step":1`) {
			t.Errorf("got %+v %s", d.Event, d.Data)
		}
		datas = append(datas, d.Data)
	}
	if &datas[0][0] != &datas[1][0] {
		t.Error("each watcher got its own encoding; want one shared")
	}
	select {
	case d := <-other.Events:
		t.Errorf("other experiment's watcher got %+v", d.Event)
	default:
	}

	a.Cancel()
	a.Cancel() // idempotent
	if _, ok := <-a.Events; ok {
		t.Error("cancelled channel still open")
	}

	// b stops reading: publishing past its buffer drops it instead of blocking.
	for i := 0; i < subscriberBuffer+1; i++ {
		bus.Publish(ctx, expt.Event{Type: expt.EventScalars, ExperimentID: "exp-1"})
	}
	n := 0
	var last string
	for d := range b.Events {
		n++
		if n == 10 {
			last = d.ID
		}
	}
	if n != subscriberBuffer {
		t.Errorf("slow watcher got %d events before its channel closed, want %d", n, subscriberBuffer)
	}
	b.Cancel() // after being dropped: must not panic

	// Resuming after the 10th event it read replays exactly what followed it.
	r := bus.Subscribe("exp-1", last)
	defer r.Cancel()
	if !r.Resumed {
		t.Fatal("resume from a kept event was refused")
	}
	got := 0
	for len(r.Events) > 0 {
		<-r.Events
		got++
	}
	// 258 events in all; the 10th this watcher read was the 11th.
	if want := 258 - 11; got != want {
		t.Errorf("resumed watcher got %d events, want %d", got, want)
	}
	for _, id := range []string{"elsewhere-3", "nonsense", last[:strings.IndexByte(last, '-')] + "-999999"} {
		s := bus.Subscribe("exp-1", id)
		if s.Resumed || len(s.Events) != 0 {
			t.Errorf("Last-Event-ID %q: resumed=%v with %d events, want a reset", id, s.Resumed, len(s.Events))
		}
		s.Cancel()
	}
}

// TestEventBusReplayBounds: the replay buffer keeps the newest events
// within its bounds; resuming from before them is a reset.
func TestEventBusReplayBounds(t *testing.T) {
	bus := newEventBus(nil)
	ctx := context.Background()
	first := bus.Subscribe("exp", "")
	bus.Publish(ctx, expt.Event{Type: expt.EventScalars, ExperimentID: "exp"})
	id := (<-first.Events).ID
	first.Cancel()
	for i := 0; i < replayEvents+5; i++ {
		bus.Publish(ctx, expt.Event{Type: expt.EventScalars, ExperimentID: "exp"})
	}
	if s := bus.Subscribe("exp", id); s.Resumed {
		t.Error("resumed from an event past the replay bound")
	}
	x := bus.exps["exp"]
	if len(x.past) != replayEvents {
		t.Errorf("kept %d events, want %d", len(x.past), replayEvents)
	}
	// A huge event is not kept, and the experiment's replay starts after it.
	huge := expt.Event{Type: expt.EventRollouts, ExperimentID: "exp", Rollouts: []*expt.Rollout{{Prompt: strings.Repeat("x", replayBytes+1)}}}
	bus.Publish(ctx, huge)
	if len(x.past) != 0 || x.size != 0 {
		t.Errorf("after an event over the bound: kept %d events, %d bytes", len(x.past), x.size)
	}
	// Across experiments, the total stays under replayAllBytes.
	big := strings.Repeat("y", 1<<20)
	for i := 0; i < 100; i++ {
		bus.Publish(ctx, expt.Event{Type: expt.EventRollouts, ExperimentID: "exp-" + string(rune('a'+i%20)), Rollouts: []*expt.Rollout{{Prompt: big}}})
	}
	kept := int64(0)
	for _, x := range bus.exps {
		kept += x.size
	}
	if kept > replayAllBytes {
		t.Errorf("kept %d bytes in all, bound %d", kept, replayAllBytes)
	}
}
