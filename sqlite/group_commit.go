package sqlite

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"sync"
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
	rows       *scalarRows
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

	stopErr error // from finalizing the statements, for Close

	raw *rawConn // the write connection's driver side, with the writer's statements

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
		w.rows.release()
		return false, errClosed
	default:
	}
	select {
	case g.queue <- w:
		// From here on the writer owns w.rows.
	case <-g.closing:
		w.rows.release()
		return false, errClosed
	case <-w.ctx.Done():
		w.rows.release()
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
func (g *groupWriter) close() error {
	g.closeOnce.Do(func() { close(g.closing) })
	<-g.stopped
	return g.stopErr
}

func (g *groupWriter) run() {
	defer close(g.stopped)
	group := make([]*scalarWrite, 0, maxGroupBatches)
	for {
		// Checked first so that a close is never outraced by a full queue.
		select {
		case <-g.closing:
			g.stop()
			return
		default:
		}
		select {
		case <-g.closing:
			g.stop()
			return
		case w := <-g.queue:
			group = append(group[:0], w)
		}
		// Take whatever else is already waiting: no timer, so a lone
		// writer pays no latency, and batches that queued up during the
		// previous commit share the next one.
		points := group[0].rows.n
	fill:
		for len(group) < maxGroupBatches && points < maxGroupPoints {
			select {
			case w := <-g.queue:
				group = append(group, w)
				points += w.rows.n
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

// stop fails the queued batches and finalizes the writer's statements.
func (g *groupWriter) stop() {
	g.rejectQueued()
	g.stopErr = g.closeStatements()
}

func (g *groupWriter) rejectQueued() {
	for {
		select {
		case w := <-g.queue:
			w.answer(scalarResult{err: errClosed})
		default:
			return
		}
	}
}

// answer hands the result to the caller and the batch's arguments back.
func (w *scalarWrite) answer(r scalarResult) {
	w.rows.release()
	w.done <- r
}

// commit stores group in one transaction and answers every caller. When
// the transaction as a whole fails (an error SQLite rolls the whole
// transaction back for, or a failed COMMIT), each batch is retried in a
// transaction of its own, so that one batch's failure never becomes the
// others'.
func (g *groupWriter) commit(group []*scalarWrite) {
	results := make([]scalarResult, len(group))
	created := map[seriesKey]int64{}
	err := g.withConn(func(c *rawConn) error {
		if _, err := c.exec(`BEGIN IMMEDIATE`, nil); err != nil {
			return fmt.Errorf("begin: %w", err)
		}
		err := g.batches(c, group, results, created)
		if err == nil {
			if _, err = c.exec(`COMMIT`, nil); err != nil {
				err = fmt.Errorf("commit: %w", err)
			}
		}
		if err != nil {
			return rollback(c, err)
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
		for k, id := range created {
			g.db.cache.series.PutOne(k.exp, k.SeriesName, id)
		}
	}
	for i, w := range group {
		w.answer(results[i])
	}
}

// batches writes each batch of group in the open transaction, under a
// savepoint when it shares the transaction, and sets its result. An error
// returned is the transaction's: the caller rolls all of it back.
func (g *groupWriter) batches(c *rawConn, group []*scalarWrite, results []scalarResult, created map[seriesKey]int64) error {
	if len(group) == 1 {
		// Alone in its transaction: a failure rolls all of it back anyway.
		w := group[0]
		if err := w.ctx.Err(); err != nil {
			results[0].err = err
			return nil
		}
		applied, err := g.db.writeScalarBatch(c, w, created, created)
		results[0] = scalarResult{applied: applied, err: err}
		return err
	}
	for i, w := range group {
		if err := w.ctx.Err(); err != nil {
			results[i].err = err // the caller has gone: skip the batch
			continue
		}
		if _, err := c.exec(`SAVEPOINT batch`, nil); err != nil {
			return fmt.Errorf("savepoint: %w", err)
		}
		newSeries := map[seriesKey]int64{}
		applied, err := g.db.writeScalarBatch(c, w, newSeries, created)
		if err != nil {
			results[i].err = err
			// ROLLBACK TO keeps the savepoint open; RELEASE ends it. It fails
			// when SQLite already rolled the whole transaction back.
			if _, rbErr := c.exec(`ROLLBACK TO batch`, nil); rbErr != nil {
				return fmt.Errorf("rollback to savepoint: %w (after %w)", rbErr, err)
			}
		}
		if _, err := c.exec(`RELEASE batch`, nil); err != nil {
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
}

// rollback ends the transaction after err. When SQLite has already rolled
// it back, ROLLBACK fails: a BEGIN tells whether the connection is out of
// any transaction; if not, the connection is given up (driver.ErrBadConn).
func rollback(c *rawConn, err error) error {
	if _, rbErr := c.exec(`ROLLBACK`, nil); rbErr == nil {
		return err
	}
	if _, bErr := c.exec(`BEGIN`, nil); bErr != nil {
		return errors.Join(err, driver.ErrBadConn)
	}
	if _, rbErr := c.exec(`ROLLBACK`, nil); rbErr != nil {
		return errors.Join(err, driver.ErrBadConn)
	}
	return err
}

// withConn runs fn on the write connection, by way of database/sql so that
// other writers (rollouts, users) take turns with the group writer. The
// writer's prepared statements stay on that connection between groups.
func (g *groupWriter) withConn(fn func(c *rawConn) error) error {
	conn, err := g.db.write.Conn(rawCtx)
	if err != nil {
		return fmt.Errorf("write connection: %w", err)
	}
	defer conn.Close()
	var fnErr error
	err = conn.Raw(func(dc any) error {
		d, ok := dc.(driver.Conn)
		if !ok {
			return fmt.Errorf("driver connection is a %T", dc)
		}
		if g.raw == nil || g.raw.dc != d {
			// A new connection (database/sql replaced a bad one): the
			// statements of the old one went with it.
			g.raw = newRawConn(d)
		}
		fnErr = fn(g.raw)
		if errors.Is(fnErr, driver.ErrBadConn) {
			g.raw.close()
			g.raw = nil
			return driver.ErrBadConn // database/sql closes the connection
		}
		return nil
	})
	if fnErr != nil {
		return fnErr
	}
	return err
}

// closeStatements finalizes the writer's prepared statements.
func (g *groupWriter) closeStatements() error {
	old := g.raw
	if old == nil {
		return nil
	}
	return g.withConn(func(c *rawConn) error {
		if c != old {
			return nil // that connection is gone, and its statements with it
		}
		return c.close()
	})
}
