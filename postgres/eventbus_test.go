package postgres_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/expt-logger/expt"
	exhttp "github.com/expt-logger/expt/http"
	"github.com/expt-logger/expt/postgres"
	"github.com/expt-logger/expt/postgres/pgtest"
)

// TestEventBusAcrossReplicas publishes on one replica's bus and receives
// on another's: a small event (inline NOTIFY) and one far over NOTIFY's
// 8000-byte limit (through live_events), with NaN and Infinity intact.
func TestEventBusAcrossReplicas(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	var buses [2]*postgres.EventBus
	for i := range buses {
		db, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		bus, err := db.NewEventBus(ctx, exhttp.NewEventBus())
		if err != nil {
			t.Fatal(err)
		}
		defer bus.Close()
		select {
		case <-bus.Ready():
		case <-time.After(10 * time.Second):
			t.Fatal("bus never listened")
		}
		buses[i] = bus
	}
	sub := buses[1].Subscribe("exp-1", "")
	defer sub.Cancel()
	otherSub := buses[1].Subscribe("exp-2", "")
	defer otherSub.Cancel()
	ownSub := buses[0].Subscribe("exp-1", "")
	defer ownSub.Cancel()
	ch, other, own := sub.Events, otherSub.Events, ownSub.Events

	small := expt.Event{Type: expt.EventScalars, ExperimentID: "exp-1",
		Scalars: []expt.Scalar{{Step: 1, Mode: "train", Name: "loss", Value: math.NaN()}, {Step: 2, Mode: "train", Name: "loss", Value: math.Inf(-1)}}}
	big := expt.Event{Type: expt.EventRollouts, ExperimentID: "exp-1",
		Rollouts: []*expt.Rollout{{ID: 7, Step: 3, Mode: "train", Prompt: strings.Repeat("long prompt ", 2000)}}}
	buses[0].Publish(ctx, small)
	buses[0].Publish(ctx, big)
	recv := func(c <-chan expt.Delivered) expt.Event {
		t.Helper()
		select {
		case d := <-c:
			return d.Event
		case <-time.After(10 * time.Second):
			t.Fatal("no event within 10s")
		}
		return expt.Event{}
	}
	e := recv(ch)
	if e.Type != expt.EventScalars || len(e.Scalars) != 2 || !math.IsNaN(e.Scalars[0].Value) || !math.IsInf(e.Scalars[1].Value, -1) {
		t.Fatalf("small event arrived as %+v", e)
	}
	e = recv(ch)
	if e.Type != expt.EventRollouts || len(e.Rollouts) != 1 || e.Rollouts[0].Prompt != big.Rollouts[0].Prompt {
		t.Fatalf("large event arrived as %+v", e.Type)
	}
	// The publisher's own watchers get each event once (not again from NOTIFY).
	recv(own)
	recv(own)
	select {
	case d := <-own:
		t.Fatalf("own event delivered twice: %+v", d.Event.Type)
	case d := <-other:
		t.Fatalf("another experiment's watcher got %+v", d.Event.Type)
	case <-time.After(300 * time.Millisecond):
	}
}
