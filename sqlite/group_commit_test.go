package sqlite

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/expt-logger/expt"
)

// groupFixture is a store with one user and two experiments whose group
// writer reports each group it forms on groups.
type groupFixture struct {
	db     *DB
	path   string
	user   int64
	ctx    context.Context
	exp1   string
	exp2   string
	groups chan int
}

func newGroupFixture(t *testing.T) *groupFixture {
	t.Helper()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "expt.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &groupFixture{db: db, path: path, ctx: ctx, groups: make(chan int, 100)}
	// Set before the first write: the writer reads it only after a send
	// on its queue, which this assignment happens before. A full channel
	// drops reports rather than stall the writer (tests that read groups
	// form fewer than its capacity).
	db.scalars.onGroup = func(n int) {
		select {
		case f.groups <- n:
		default:
		}
	}
	u := &expt.User{Email: "group@test"}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	f.user = u.ID
	for i, id := range []*string{&f.exp1, &f.exp2} {
		e := &expt.Experiment{ID: fmt.Sprintf("00000000-0000-4000-8000-00000000000%d", i+1), UserID: u.ID, Name: "e"}
		if _, err := db.CreateExperiment(ctx, e); err != nil {
			t.Fatal(err)
		}
		*id = e.ID
	}
	return f
}

// holdWriter takes the only write connection, so that the group writer
// blocks at BEGIN; the returned func gives it back.
func (f *groupFixture) holdWriter(t *testing.T) func() {
	t.Helper()
	tx, err := f.db.write.BeginTx(f.ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	return func() { tx.Rollback() }
}

func (f *groupFixture) waitQueued(t *testing.T, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for len(f.db.scalars.queue) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d batches queued, want %d", len(f.db.scalars.queue), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func (f *groupFixture) nextGroup(t *testing.T) int {
	t.Helper()
	select {
	case n := <-f.groups:
		return n
	case <-time.After(10 * time.Second):
		t.Fatal("no group formed")
		return 0
	}
}

type call struct {
	exp   string
	batch []expt.Scalar
	key   string
	ctx   context.Context

	applied bool
	err     error
	done    chan struct{}
}

// start runs WriteScalars in a goroutine.
func (f *groupFixture) start(c *call) *call {
	c.done = make(chan struct{})
	ctx := c.ctx
	if ctx == nil {
		ctx = f.ctx
	}
	go func() {
		defer close(c.done)
		c.applied, c.err = f.db.WriteScalars(ctx, c.exp, c.batch, c.key)
	}()
	return c
}

func (c *call) wait(t *testing.T) *call {
	t.Helper()
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("WriteScalars hangs")
	}
	return c
}

func points(name string, from, n int, value float64) []expt.Scalar {
	b := make([]expt.Scalar, n)
	for i := range b {
		b[i] = expt.Scalar{Step: int64(from + i), Mode: "train", Name: name, Value: value, TS: 1}
	}
	return b
}

func (f *groupFixture) count(t *testing.T, exp, name string) (n int, sum float64) {
	t.Helper()
	err := f.db.read.QueryRowContext(f.ctx, `SELECT count(*), coalesce(sum(p.value), 0) FROM points p
		JOIN series s ON s.id = p.series_id JOIN experiments e ON e.pk = s.experiment
		WHERE e.id = ? AND s.mode = 'train' AND s.name = ?`, exp, name).Scan(&n, &sum)
	if err != nil {
		t.Fatal(err)
	}
	return n, sum
}

// runGroup makes calls share one transaction: the writer is held at BEGIN
// with a first batch while the calls queue up behind it.
func (f *groupFixture) runGroup(t *testing.T, calls ...*call) {
	t.Helper()
	release := f.holdWriter(t)
	first := f.start(&call{exp: f.exp1, batch: points("first", 0, 1, 1)})
	if n := f.nextGroup(t); n != 1 {
		t.Fatalf("first group has %d batches, want 1", n)
	}
	for i, c := range calls {
		f.start(c)
		f.waitQueued(t, i+1) // one at a time: arrival order is the order of calls
	}
	release()
	if first.wait(t); first.err != nil {
		t.Fatal(first.err)
	}
	if n := f.nextGroup(t); n != len(calls) {
		t.Fatalf("group has %d batches, want %d", n, len(calls))
	}
	for _, c := range calls {
		c.wait(t)
	}
}

func TestGroupCommitIsolatesBatches(t *testing.T) {
	f := newGroupFixture(t)
	if _, err := f.db.WriteScalars(f.ctx, f.exp1, points("old", 0, 5, 1), "seen"); err != nil {
		t.Fatal(err)
	}
	<-f.groups
	// A batch that fails half way, after its key, its series and some of
	// its points were written: the connection's own temp trigger aborts the
	// insert of step 250 valued 9 (in the third INSERT statement of the batch).
	if _, err := f.db.write.ExecContext(f.ctx, `CREATE TEMP TRIGGER fail_step AFTER INSERT ON main.points
		WHEN NEW.step = 250 AND NEW.value = 9 BEGIN SELECT RAISE(ABORT, 'step 250 refused'); END`); err != nil {
		t.Fatal(err)
	}
	var (
		a       = &call{exp: f.exp1, batch: points("loss", 0, 100, 1), key: "a"}
		replay  = &call{exp: f.exp1, batch: points("loss", 0, 100, 5), key: "seen"}
		missing = &call{exp: "00000000-0000-4000-8000-000000000009", batch: points("loss", 0, 10, 1), key: "m"}
		failing = &call{exp: f.exp2, batch: points("doomed", 0, 300, 9), key: "g"}
		b       = &call{exp: f.exp2, batch: points("acc", 0, 300, 1), key: "b"}
		again   = &call{exp: f.exp1, batch: points("loss", 0, 100, 7), key: "a"}    // same key as a, same group
		later   = &call{exp: f.exp1, batch: points("loss", 50, 100, 2), key: "c"}   // overwrites half of a
		newSer  = &call{exp: f.exp1, batch: points("fresh", 0, 10, 3), key: ""}     // creates a series
		newSer2 = &call{exp: f.exp1, batch: points("fresh", 10, 10, 3), key: ""}    // uses it, same transaction
		badRoll = &call{exp: f.exp2, batch: points("doomed", 240, 20, 9), key: "g"} // fails too; key g stays free
	)
	f.runGroup(t, a, replay, missing, failing, b, again, later, newSer, newSer2, badRoll)

	for name, c := range map[string]*call{"a": a, "b": b, "later": later, "newSer": newSer, "newSer2": newSer2} {
		if c.err != nil || !c.applied {
			t.Errorf("%s: applied %v, err %v; want applied", name, c.applied, c.err)
		}
	}
	for name, c := range map[string]*call{"replay": replay, "again": again} {
		if c.err != nil || c.applied {
			t.Errorf("%s: applied %v, err %v; want a replay", name, c.applied, c.err)
		}
	}
	if expt.ErrorCode(missing.err) != expt.ENOTFOUND {
		t.Errorf("unknown experiment: err %v, want ENOTFOUND", missing.err)
	}
	for name, c := range map[string]*call{"failing": failing, "badRoll": badRoll} {
		if c.err == nil || c.applied {
			t.Errorf("%s: applied %v, err %v; want the trigger's error", name, c.applied, c.err)
		}
	}

	// a wrote steps 0-99 with 1, later steps 50-149 with 2: 50*1 + 100*2.
	if n, sum := f.count(t, f.exp1, "loss"); n != 150 || sum != 250 {
		t.Errorf("loss: %d points summing to %v, want 150 and 250", n, sum)
	}
	if n, _ := f.count(t, f.exp2, "acc"); n != 300 {
		t.Errorf("acc: %d points, want 300", n)
	}
	if n, _ := f.count(t, f.exp1, "fresh"); n != 20 {
		t.Errorf("fresh: %d points, want 20", n)
	}
	if n, _ := f.count(t, f.exp2, "doomed"); n != 0 {
		t.Errorf("doomed: %d points of failed batches were kept", n)
	}
	ms, err := f.db.Metrics(f.ctx, f.exp2)
	if err != nil || len(ms) != 1 || ms[0].Name != "acc" {
		t.Errorf("Metrics(exp2) = %+v, %v; want only acc (the failed batch's series rolled back)", ms, err)
	}
	e, err := f.db.Experiment(f.ctx, f.exp1)
	if err != nil || e.LatestStep == nil || *e.LatestStep != 149 {
		t.Errorf("exp1 latest step = %v (%v), want 149", e.LatestStep, err)
	}
	var dirty int
	if err := f.db.read.QueryRow(`SELECT count(*) FROM rollups WHERE dirty = 1`).Scan(&dirty); err != nil || dirty == 0 {
		t.Errorf("%d dirty rollups (%v): the group's writes must mark them", dirty, err)
	}

	// The failed batch's key is free and its series id was not cached:
	// resending it once the trigger is gone stores every point.
	if _, err := f.db.write.ExecContext(f.ctx, `DROP TRIGGER temp.fail_step`); err != nil {
		t.Fatal(err)
	}
	applied, err := f.db.WriteScalars(f.ctx, f.exp2, failing.batch, "g")
	if err != nil || !applied {
		t.Fatalf("resend of the failed batch: applied %v, err %v", applied, err)
	}
	if n, _ := f.count(t, f.exp2, "doomed"); n != 300 {
		t.Errorf("doomed after resend: %d points, want 300", n)
	}
	s, err := f.db.Series(f.ctx, expt.SeriesQuery{ExperimentID: f.exp2, Mode: "train", Name: "doomed"})
	if err != nil || s.Total != 300 {
		t.Errorf("Series(doomed) total %d, %v; want 300", s.Total, err)
	}
}

// A batch that makes SQLite roll the whole transaction back cannot be
// undone by its savepoint: the group is retried one batch at a time.
func TestGroupCommitFallsBackWhenTransactionDies(t *testing.T) {
	f := newGroupFixture(t)
	if _, err := f.db.write.ExecContext(f.ctx, `CREATE TEMP TRIGGER kill_tx AFTER INSERT ON main.points
		WHEN NEW.step = 13 BEGIN SELECT RAISE(ROLLBACK, 'step 13 refused'); END`); err != nil {
		t.Fatal(err)
	}
	var (
		before = &call{exp: f.exp1, batch: points("x", 100, 10, 1), key: "before"}
		killer = &call{exp: f.exp1, batch: points("x", 0, 20, 1), key: "killer"}
		after  = &call{exp: f.exp2, batch: points("y", 0, 10, 1), key: "after"}
	)
	f.runGroup(t, before, killer, after)
	if before.err != nil || !before.applied || after.err != nil || !after.applied {
		t.Errorf("before: %v %v, after: %v %v; want both applied", before.applied, before.err, after.applied, after.err)
	}
	if killer.err == nil || killer.applied {
		t.Errorf("killer: applied %v, err %v; want an error", killer.applied, killer.err)
	}
	if n, _ := f.count(t, f.exp1, "x"); n != 10 {
		t.Errorf("x: %d points, want 10", n)
	}
	if n, _ := f.count(t, f.exp2, "y"); n != 10 {
		t.Errorf("y: %d points, want 10", n)
	}
	// Retried alone, each batch was applied exactly once: its key replays.
	if applied, err := f.db.WriteScalars(f.ctx, f.exp1, before.batch, "before"); err != nil || applied {
		t.Errorf("replay of before: applied %v, err %v", applied, err)
	}
}

func TestGroupCommitCanceledWhileQueued(t *testing.T) {
	f := newGroupFixture(t)
	release := f.holdWriter(t)
	first := f.start(&call{exp: f.exp1, batch: points("first", 0, 1, 1)})
	f.nextGroup(t)
	ctx, cancel := context.WithCancel(f.ctx)
	c := f.start(&call{exp: f.exp1, batch: points("gone", 0, 10, 1), key: "k", ctx: ctx})
	f.waitQueued(t, 1)
	cancel()
	if c.wait(t); !errors.Is(c.err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", c.err)
	}
	release()
	first.wait(t)
	f.nextGroup(t)
	// The writer skipped it: nothing stored, the key is still free.
	if _, err := f.db.WriteScalars(f.ctx, f.exp1, points("other", 0, 1, 1), ""); err != nil {
		t.Fatal(err)
	}
	if n, _ := f.count(t, f.exp1, "gone"); n != 0 {
		t.Errorf("%d points of a canceled batch stored", n)
	}
	if applied, err := f.db.WriteScalars(f.ctx, f.exp1, points("gone", 0, 10, 1), "k"); err != nil || !applied {
		t.Errorf("resend: applied %v, err %v", applied, err)
	}
}

func TestCloseWithQueuedWrites(t *testing.T) {
	f := newGroupFixture(t)
	release := f.holdWriter(t)
	first := f.start(&call{exp: f.exp1, batch: points("first", 0, 10, 1), key: "first"})
	f.nextGroup(t)
	var queued []*call
	for i := range 5 {
		queued = append(queued, f.start(&call{exp: f.exp1, batch: points("q", i*10, 10, 1)}))
	}
	f.waitQueued(t, len(queued))
	closed := make(chan error, 1)
	go func() { closed <- f.db.Close() }()
	// Close waits for the group in progress, which waits for the connection.
	<-f.db.scalars.closing
	release()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close hangs")
	}
	if first.wait(t); first.err != nil || !first.applied {
		t.Errorf("batch in progress at Close: applied %v, err %v; want committed", first.applied, first.err)
	}
	for i, c := range queued {
		if c.wait(t); !errors.Is(c.err, errClosed) {
			t.Errorf("queued batch %d: applied %v, err %v; want errClosed", i, c.applied, c.err)
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := f.db.WriteScalars(f.ctx, f.exp1, points("late", 0, 1, 1), "")
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, errClosed) {
			t.Errorf("write after Close: %v, want errClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("write after Close hangs")
	}
	// The committed batch survived: reopen and look.
	db, err := Open(f.ctx, f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	f.db = db
	if n, _ := f.count(t, f.exp1, "first"); n != 10 {
		t.Errorf("after reopen: %d points of the committed batch, want 10", n)
	}
}

// Many writers, each replaying some of its own keys: every batch lands
// exactly once, whatever groups the writer formed.
func TestGroupCommitConcurrentExactlyOnce(t *testing.T) {
	f := newGroupFixture(t)
	const writers, batches, per = 8, 25, 40
	var wg sync.WaitGroup
	errs := make(chan error, writers*batches*2)
	for w := range writers {
		wg.Go(func() {
			exp := []string{f.exp1, f.exp2}[w%2]
			name := fmt.Sprintf("w%d", w)
			for b := range batches {
				key := fmt.Sprintf("%d-%d", w, b)
				batch := points(name, b*per, per, float64(b))
				if applied, err := f.db.WriteScalars(f.ctx, exp, batch, key); err != nil || !applied {
					errs <- fmt.Errorf("%s: applied %v, err %v", key, applied, err)
				}
				if b%5 == 4 { // the SDK resending after a lost answer
					if applied, err := f.db.WriteScalars(f.ctx, exp, points(name, b*per, per, -1), key); err != nil || applied {
						errs <- fmt.Errorf("replay %s: applied %v, err %v", key, applied, err)
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	for w := range writers {
		exp := []string{f.exp1, f.exp2}[w%2]
		n, sum := f.count(t, exp, fmt.Sprintf("w%d", w))
		if want := float64(per * batches * (batches - 1) / 2); n != batches*per || sum != want {
			t.Errorf("writer %d: %d points summing to %v, want %d and %v", w, n, sum, batches*per, want)
		}
	}
	var keys int
	if err := f.db.read.QueryRow(`SELECT count(*) FROM idempotency`).Scan(&keys); err != nil || keys != writers*batches {
		t.Errorf("%d idempotency keys (%v), want %d", keys, err, writers*batches)
	}
}
