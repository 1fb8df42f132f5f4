package http

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"
	"sync"

	"github.com/expt-logger/expt"
)

// subscriberBuffer is how many events a watcher may fall behind before it
// is dropped; a browser tab that stops reading must never slow a writer.
// The events are shared, not copied, so a full buffer costs pointers.
const subscriberBuffer = 256

// Replay bounds: how much of each experiment's recent stream is kept for
// watchers that resume with Last-Event-ID, and how much in all.
const (
	replayEvents   = 1024
	replayBytes    = 8 << 20
	replayAllBytes = 64 << 20
)

// eventBus is the in-process expt.EventBus: it numbers each experiment's
// events, encodes each once, hands it to every watcher and keeps the
// recent ones for resuming.
type eventBus struct {
	epoch  string // this bus's run: an ID from another run does not resume here
	logger *slog.Logger

	mu    sync.Mutex
	exps  map[string]*expEvents
	total int64      // bytes kept for replay, all experiments
	fifo  []replayed // every kept event, oldest first, for the global bound
}

type expEvents struct {
	seq  int64
	subs map[*subscriber]struct{}
	past []expt.Delivered // oldest first
	size int64
}

type replayed struct {
	exp  string
	seq  int64
	size int64
}

type subscriber struct {
	ch     chan expt.Delivered
	closed bool // guarded by eventBus.mu
}

// NewEventBus returns an in-process fan-out of events to subscribers.
func NewEventBus() expt.EventBus { return newEventBus(nil) }

func newEventBus(logger *slog.Logger) *eventBus {
	var b [4]byte
	_, _ = rand.Read(b[:])
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &eventBus{epoch: hex.EncodeToString(b[:]), logger: logger, exps: map[string]*expEvents{}}
}

// Publish encodes e once and hands it to every watcher of its experiment
// without blocking: a watcher whose buffer is full is dropped and its
// channel closed.
func (b *eventBus) Publish(_ context.Context, e expt.Event) {
	data, err := eventData(e)
	if err != nil {
		b.logger.Error("encode event", "experiment", e.ExperimentID, "err", err)
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	x := b.exps[e.ExperimentID]
	if x == nil {
		x = &expEvents{subs: map[*subscriber]struct{}{}}
		b.exps[e.ExperimentID] = x
	}
	x.seq++
	d := expt.Delivered{ID: b.epoch + "-" + strconv.FormatInt(x.seq, 10), Event: e, Data: data}
	for sub := range x.subs {
		select {
		case sub.ch <- d:
		default:
			b.removeLocked(e.ExperimentID, sub)
		}
	}
	b.keepLocked(e.ExperimentID, x, d)
}

// keepLocked adds d to the replay buffer, evicting the oldest events past
// the bounds (this experiment's, then everyone's).
func (b *eventBus) keepLocked(exp string, x *expEvents, d expt.Delivered) {
	size := int64(len(d.Data))
	if size > replayBytes {
		// Too big to keep: a watcher resuming from before it must refetch.
		x.past, x.size = nil, 0
		return
	}
	x.past = append(x.past, d)
	x.size += size
	b.total += size
	b.fifo = append(b.fifo, replayed{exp, x.seq, size})
	for len(x.past) > replayEvents || x.size > replayBytes {
		x.size -= int64(len(x.past[0].Data))
		x.past = x.past[1:]
	}
	for b.total > replayAllBytes && len(b.fifo) > 0 {
		old := b.fifo[0]
		b.fifo = b.fifo[1:]
		b.total -= old.size
		if ox := b.exps[old.exp]; ox != nil && len(ox.past) > 0 && seqOf(ox.past[0].ID) == old.seq {
			ox.size -= old.size
			ox.past = ox.past[1:]
		}
	}
	// The fifo's entries for events already gone (evicted by their own
	// experiment's bound) are dropped lazily above; keep it from growing
	// without bound when the global bound is never reached.
	if len(b.fifo) > 4*replayEvents*max(1, len(b.exps)) {
		b.compactLocked()
	}
}

// compactLocked rebuilds fifo from the events still kept.
func (b *eventBus) compactLocked() {
	b.fifo = b.fifo[:0]
	b.total = 0
	for exp, x := range b.exps {
		for _, d := range x.past {
			b.fifo = append(b.fifo, replayed{exp, seqOf(d.ID), int64(len(d.Data))})
			b.total += int64(len(d.Data))
		}
	}
}

func seqOf(id string) int64 {
	n, _ := strconv.ParseInt(id[strings.LastIndexByte(id, '-')+1:], 10, 64)
	return n
}

func (b *eventBus) Subscribe(experimentID, lastID string) expt.Subscription {
	sub := &subscriber{ch: make(chan expt.Delivered, subscriberBuffer)}
	b.mu.Lock()
	x := b.exps[experimentID]
	if x == nil {
		x = &expEvents{subs: map[*subscriber]struct{}{}}
		b.exps[experimentID] = x
	}
	resumed := true
	if lastID != "" {
		resumed = false
		epoch, seqText, ok := strings.Cut(lastID, "-")
		last, err := strconv.ParseInt(seqText, 10, 64)
		switch {
		case !ok || err != nil || epoch != b.epoch || last > x.seq:
		case last == x.seq:
			resumed = true // nothing missed
		case len(x.past) > 0 && seqOf(x.past[0].ID) <= last+1:
			missed := x.past[last+1-seqOf(x.past[0].ID):]
			if len(missed) <= subscriberBuffer {
				for _, d := range missed {
					sub.ch <- d
				}
				resumed = true
			}
		}
	}
	x.subs[sub] = struct{}{}
	b.mu.Unlock()
	return expt.Subscription{Events: sub.ch, Resumed: resumed, Cancel: func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		b.removeLocked(experimentID, sub)
	}}
}

func (b *eventBus) removeLocked(experimentID string, sub *subscriber) {
	if sub.closed {
		return
	}
	sub.closed = true
	close(sub.ch)
	if x := b.exps[experimentID]; x != nil {
		delete(x.subs, sub)
	}
}
