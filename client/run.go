package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/api"
)

// RunOptions configure a logging Run.
type RunOptions struct {
	ID      string // resume this experiment; "" for a new one (the id is chosen here, so the run starts offline too)
	Name    string
	Project string // a project name; made when missing and the key may
	Config  any    // encoded as JSON
	Tags    []string

	// MaxScalars and MaxRolloutBytes bound what waits in memory for the
	// server; past them the oldest waiting items are dropped (Dropped
	// counts them) rather than blocking the caller or growing.
	MaxScalars      int           // default 200,000
	MaxRolloutBytes int           // default 64 MB of rollout JSON
	FlushInterval   time.Duration // how often a partial batch is sent; default 1 s
	// OnError is told, from the sending goroutine, of a batch the server
	// refused (bad input; it is dropped) and of each retry's cause.
	OnError func(error)
}

// Run logs one experiment from a Go program. Log and LogRollout only queue
// and return at once; a goroutine sends batches of up to 5,000 points or
// 8 MB of rollouts, each with an Idempotency-Key kept across its retries,
// so a retry after a lost answer is applied once.
type Run struct {
	ID string

	c    *Client
	opts RunOptions
	mu   sync.Mutex
	wake chan struct{}
	done chan struct{}
	stop context.CancelFunc
	ctx  context.Context

	scalars      []api.ScalarIn
	rollouts     []api.RolloutIn
	rolloutBytes int
	logged       int64 // items queued in all
	finished     int64 // items acknowledged, refused or dropped
	dropped      int64
	changed      chan struct{} // closed and replaced when finished moves
	ended        bool
	created      bool
	url          string
}

// URL is the experiment's page in the browser, once the server has
// answered the run's creation ("" before).
func (r *Run) URL() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.url
}

// Start begins a run. It fails only for options it cannot use: the
// experiment is created (or resumed) by the sending goroutine, retried
// until the server answers, so a run can start while the server is away.
func (c *Client) Start(ctx context.Context, o RunOptions) (*Run, error) {
	if o.ID == "" {
		o.ID = expt.NewUUID()
	}
	if o.MaxScalars <= 0 {
		o.MaxScalars = 200_000
	}
	if o.MaxRolloutBytes <= 0 {
		o.MaxRolloutBytes = 64 << 20
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = time.Second
	}
	if o.Config != nil {
		if _, err := json.Marshal(o.Config); err != nil {
			return nil, fmt.Errorf("start run: config: %w", err)
		}
	}
	bg, stop := context.WithCancel(context.WithoutCancel(ctx))
	r := &Run{ID: o.ID, c: c, opts: o, wake: make(chan struct{}, 1), done: make(chan struct{}), stop: stop, ctx: bg, changed: make(chan struct{})}
	go r.send()
	return r, nil
}

// Log queues metrics at step. A key's first path segment is its mode
// ("train/loss", "eval/acc"); a key without one is under "train". NaN and
// ±Inf are kept.
func (r *Run) Log(step int64, metrics map[string]float64) {
	now := float64(time.Now().UnixMicro()) / 1e6
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return
	}
	for k, v := range metrics {
		mode, name, ok := strings.Cut(k, "/")
		if !ok {
			mode, name = "train", k
		}
		ts := now
		r.scalars = append(r.scalars, api.ScalarIn{Step: step, Mode: mode, Name: name, Value: api.Num(v), TS: &ts})
		r.logged++
	}
	if over := len(r.scalars) - r.opts.MaxScalars; over > 0 {
		r.scalars = append(r.scalars[:0:0], r.scalars[over:]...)
		r.drop(int64(over))
	}
	r.poke()
}

// LogRollout queues one rollout (its Step and Mode as given; Mode "" is
// "train").
func (r *Run) LogRollout(ro api.RolloutIn) {
	if ro.Mode == "" {
		ro.Mode = "train"
	}
	if ro.TS == nil {
		ts := float64(time.Now().UnixMicro()) / 1e6
		ro.TS = &ts
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ended {
		return
	}
	r.rollouts = append(r.rollouts, ro)
	r.rolloutBytes += rolloutSize(ro)
	r.logged++
	n := 0
	for r.rolloutBytes > r.opts.MaxRolloutBytes && n < len(r.rollouts)-1 {
		r.rolloutBytes -= rolloutSize(r.rollouts[n])
		n++
	}
	if n > 0 {
		r.rollouts = append(r.rollouts[:0:0], r.rollouts[n:]...)
		r.drop(int64(n))
	}
	r.poke()
}

// Dropped is how many items were dropped: past the memory bounds, or
// refused by the server as bad input.
func (r *Run) Dropped() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.dropped
}

// Flush waits until everything logged before it was acknowledged (or
// dropped), or ctx ends.
func (r *Run) Flush(ctx context.Context) error {
	r.mu.Lock()
	target := r.logged
	r.mu.Unlock()
	r.poke()
	for {
		r.mu.Lock()
		finished, changed := r.finished, r.changed
		r.mu.Unlock()
		if finished >= target {
			return nil
		}
		select {
		case <-changed:
		case <-r.done:
			return errors.New("flush: the run has stopped sending")
		case <-ctx.Done():
			return fmt.Errorf("flush: %d of %d items not acknowledged: %w", target-finished, target, ctx.Err())
		}
	}
}

// End flushes, marks the experiment with status ("complete", "failed")
// and stops the sending goroutine. What is not acknowledged when ctx ends
// is lost; the error says how much.
func (r *Run) End(ctx context.Context, status string) error {
	err := r.Flush(ctx)
	r.mu.Lock()
	r.ended = true
	r.mu.Unlock()
	r.stop()
	<-r.done
	if err != nil {
		return err
	}
	if status != "" {
		if _, err := r.c.UpdateExperiment(ctx, r.ID, api.ExperimentUpdate{Status: &status}); err != nil {
			return fmt.Errorf("end: %w", err)
		}
	}
	return nil
}

func (r *Run) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// drop counts n items as finished without being sent; r.mu is held.
func (r *Run) drop(n int64) {
	r.dropped += n
	r.finish(n)
}

// finish moves the acknowledged count; r.mu is held.
func (r *Run) finish(n int64) {
	r.finished += n
	close(r.changed)
	r.changed = make(chan struct{})
}

func rolloutSize(ro api.RolloutIn) int {
	n := 256
	for _, m := range ro.Messages {
		n += len(m)
	}
	if s, ok := ro.PromptText.(string); ok {
		n += len(s)
	}
	return n + len(ro.Metadata)
}

// Batch limits of one request.
const (
	scalarBatch       = 5000
	rolloutBatchBytes = 8 << 20
)

// send is the goroutine that delivers: the experiment first, then batches
// as they fill or every FlushInterval, until stopped.
func (r *Run) send() {
	defer close(r.done)
	tick := time.NewTicker(r.opts.FlushInterval)
	defer tick.Stop()
	for {
		if !r.created {
			r.created = r.retry(func() error { return r.create() })
		}
		for r.created && r.sendOne() {
		}
		select {
		case <-r.ctx.Done():
			return
		case <-r.wake:
		case <-tick.C:
		}
	}
}

func (r *Run) create() error {
	req := api.CreateExperimentRequest{ID: r.ID, Project: r.opts.Project, Tags: r.opts.Tags}
	if r.opts.Name != "" {
		req.Name = &r.opts.Name
	}
	if r.opts.Config != nil {
		req.Config, _ = json.Marshal(r.opts.Config)
	}
	resp, err := r.c.CreateExperiment(r.ctx, req)
	if err != nil {
		return err
	}
	r.mu.Lock()
	r.url = resp.URL
	r.mu.Unlock()
	return nil
}

// sendOne sends the next batch (points first) and reports whether there
// was one.
func (r *Run) sendOne() bool {
	r.mu.Lock()
	var sc []api.ScalarIn
	var ro []api.RolloutIn
	if len(r.scalars) > 0 {
		n := min(len(r.scalars), scalarBatch)
		sc = r.scalars[:n:n]
		r.scalars = r.scalars[n:]
	} else if len(r.rollouts) > 0 {
		size, n := 0, 0
		for n < len(r.rollouts) && (n == 0 || size+rolloutSize(r.rollouts[n]) <= rolloutBatchBytes) && n < expt.MaxRolloutsPerBatch {
			size += rolloutSize(r.rollouts[n])
			n++
		}
		ro = r.rollouts[:n:n]
		r.rollouts = r.rollouts[n:]
		r.rolloutBytes -= size
	}
	r.mu.Unlock()
	if sc == nil && ro == nil {
		return false
	}
	key := expt.NewUUID() // the same key for every retry of this batch
	ok := r.retry(func() error {
		if sc != nil {
			return r.c.WriteScalars(r.ctx, r.ID, sc, key)
		}
		return r.c.WriteRollouts(r.ctx, r.ID, ro, key)
	})
	n := int64(len(sc) + len(ro))
	r.mu.Lock()
	if ok {
		r.finish(n)
	} else if r.ctx.Err() == nil {
		r.drop(n) // refused as bad input
	}
	r.mu.Unlock()
	return ok || r.ctx.Err() == nil
}

// retry runs fn until it succeeds (true), fails for good (false, told to
// OnError) or the run stops (false).
func (r *Run) retry(fn func() error) bool {
	for n := 0; ; n++ {
		err := fn()
		if err == nil {
			return true
		}
		if r.opts.OnError != nil && r.ctx.Err() == nil {
			r.opts.OnError(err)
		}
		if !retryable(err) || r.ctx.Err() != nil {
			return false
		}
		select {
		case <-r.ctx.Done():
			return false
		case <-time.After(backoff(n)):
		}
	}
}
