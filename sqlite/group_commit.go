package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"

	"github.com/expt-logger/expt"
)

// Group commit: concurrent WriteScalars calls queue their batches for one
// writer goroutine, which stores whatever is queued in one transaction, a
// SAVEPOINT per batch. The commit (WAL frames for every page touched, the
// experiment row, rollup marks) is then paid once per group instead of
// once per batch. A batch that fails is rolled back to its savepoint
// alone; each caller is answered only after the shared COMMIT returned.

const (
	// queueDepth bounds the batches waiting for the writer: beyond it
	// callers wait to enqueue, so memory stays bounded under overload.
	queueDepth = 64
	// maxGroupBatches and maxGroupPoints bound one transaction, and so how
	// long the first caller of a group waits for its answer.
	maxGroupBatches = 32
	maxGroupPoints  = 64_000
)

// errClosed answers writes that were still queued when the store closed.
var errClosed = errors.New("sqlite: database is closed")

// scalarWrite is one WriteScalars call waiting for the group writer.
type scalarWrite struct {
	ctx        context.Context
	experiment string
	batch      []expt.Scalar
	idemKey    string
	done       chan scalarResult // buffered, so the writer never waits for a caller that gave up
}

type scalarResult struct {
	applied bool
	err     error
}

// groupWriter owns the goroutine that commits queued scalar batches.
type groupWriter struct {
	db        *DB
	queue     chan *scalarWrite
	closing   chan struct{} // closed by close: stop taking batches
	stopped   chan struct{} // closed when the goroutine has returned
	closeOnce sync.Once

	onGroup func(size int) // test hook: called with each group before its transaction
}

func startGroupWriter(db *DB) *groupWriter {
	g := &groupWriter{
		db:      db,
		queue:   make(chan *scalarWrite, queueDepth),
		closing: make(chan struct{}),
		stopped: make(chan struct{}),
	}
	go g.run()
	return g
}

// write queues w and waits for its result, for ctx, or for the writer to stop.
func (g *groupWriter) write(w *scalarWrite) (bool, error) {
	select {
	case <-g.closing:
		return false, errClosed
	default:
	}
	select {
	case g.queue <- w:
	case <-g.closing:
		return false, errClosed
	case <-w.ctx.Done():
		return false, w.ctx.Err()
	}
	select {
	case r := <-w.done:
		return r.applied, r.err
	case <-w.ctx.Done():
		// The writer skips a batch whose context ended before its turn; one
		// already in a transaction may still commit, as with any write whose
		// caller gave up (a retry with the same idempotency key is a replay).
		return false, w.ctx.Err()
	case <-g.stopped:
		// The writer answers before it stops; no answer means the batch was
		// still queued (or queued after the writer's last look).
		select {
		case r := <-w.done:
			return r.applied, r.err
		default:
			return false, errClosed
		}
	}
}

// close stops the writer after the group in progress and fails every
// batch still queued; it waits for the goroutine to return.
func (g *groupWriter) close() {
	g.closeOnce.Do(func() { close(g.closing) })
	<-g.stopped
}

func (g *groupWriter) run() {
	defer close(g.stopped)
	group := make([]*scalarWrite, 0, maxGroupBatches)
	for {
		// Checked first so that a close is never outraced by a full queue.
		select {
		case <-g.closing:
			g.rejectQueued()
			return
		default:
		}
		select {
		case <-g.closing:
			g.rejectQueued()
			return
		case w := <-g.queue:
			group = append(group[:0], w)
		}
		// Take whatever else is already waiting: no timer, so a lone
		// writer pays no latency, and batches that queued up during the
		// previous commit share the next one.
		points := len(group[0].batch)
	fill:
		for len(group) < maxGroupBatches && points < maxGroupPoints {
			select {
			case w := <-g.queue:
				group = append(group, w)
				points += len(w.batch)
			default:
				break fill
			}
		}
		if g.onGroup != nil {
			g.onGroup(len(group))
		}
		g.commit(group)
		clear(group) // let the batches be collected while the writer waits
	}
}

func (g *groupWriter) rejectQueued() {
	for {
		select {
		case w := <-g.queue:
			w.done <- scalarResult{err: errClosed}
		default:
			return
		}
	}
}

// commit stores group in one transaction and answers every caller. When
// the transaction as a whole fails (an error SQLite rolls the whole
// transaction back for, or a failed COMMIT), each batch is retried in a
// transaction of its own, so that one batch's failure never becomes the
// others'.
func (g *groupWriter) commit(group []*scalarWrite) {
	results := make([]scalarResult, len(group))
	created := map[seriesKey]int64{}
	// Background, not a caller's context: one caller giving up must not
	// interrupt a transaction that carries other callers' batches.
	ctx := context.Background()
	err := g.db.tx(ctx, func(tx *sql.Tx) error {
		for i, w := range group {
			if err := w.ctx.Err(); err != nil {
				results[i].err = err
				continue
			}
			if len(group) == 1 {
				// Alone in its transaction: a failure rolls all of it back anyway.
				applied, err := g.db.writeScalarBatch(ctx, tx, w, created, created)
				results[i] = scalarResult{applied: applied, err: err}
				return err
			}
			if _, err := tx.ExecContext(ctx, `SAVEPOINT batch`); err != nil {
				return fmt.Errorf("savepoint: %w", err)
			}
			newSeries := map[seriesKey]int64{}
			applied, err := g.db.writeScalarBatch(ctx, tx, w, newSeries, created)
			if err != nil {
				results[i].err = err
				// ROLLBACK TO keeps the savepoint open; RELEASE ends it.
				if _, rbErr := tx.ExecContext(ctx, `ROLLBACK TO batch`); rbErr != nil {
					return fmt.Errorf("rollback to savepoint: %w (after %w)", rbErr, err)
				}
			}
			if _, err := tx.ExecContext(ctx, `RELEASE batch`); err != nil {
				return fmt.Errorf("release savepoint: %w", err)
			}
			if err == nil {
				results[i].applied = applied
				for k, id := range newSeries {
					created[k] = id
				}
			}
		}
		return nil
	})
	if err != nil && len(group) > 1 {
		for _, w := range group {
			g.commit([]*scalarWrite{w})
		}
		return
	}
	if err != nil && results[0].err == nil {
		results[0].err = err // a failed BEGIN or COMMIT
	}
	if err == nil && len(created) > 0 {
		g.db.cache.mu.Lock()
		for k, id := range created {
			g.db.cache.series[k] = id
		}
		g.db.cache.mu.Unlock()
	}
	for i, w := range group {
		w.done <- results[i]
	}
}
