package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/expt-logger/expt/postgres"
	"github.com/expt-logger/expt/postgres/pgtest"
)

// TestSignInThrottleSharedByReplicas fails sign-ins concurrently through
// two replicas' throttles: the limit applies to their sum, the window
// ends on time, and a reset on one replica clears it for both.
func TestSignInThrottleSharedByReplicas(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	var th [2]*postgres.SignInThrottle
	for i := range th {
		db, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		th[i] = db.NewSignInThrottle(10, 15*time.Minute)
	}
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for i := range 9 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := th[i%2].Fail(ctx, "a@x|1.2.3.4", now); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for i := range th {
		if wait, err := th[i].Blocked(ctx, "a@x|1.2.3.4", now); err != nil || wait != 0 {
			t.Fatalf("replica %d: blocked %v (%v) after 9 failures, want free", i, wait, err)
		}
	}
	if err := th[0].Fail(ctx, "a@x|1.2.3.4", now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	wait, err := th[1].Blocked(ctx, "a@x|1.2.3.4", now.Add(time.Minute))
	if err != nil || wait != 14*time.Minute {
		t.Fatalf("after the 10th failure on the other replica: wait %v (%v), want 14m", wait, err)
	}
	if wait, _ := th[1].Blocked(ctx, "b@x|1.2.3.4", now); wait != 0 {
		t.Fatalf("another key is blocked for %v", wait)
	}
	if wait, _ := th[0].Blocked(ctx, "a@x|1.2.3.4", now.Add(15*time.Minute)); wait != 0 {
		t.Fatalf("still blocked %v after the window ended", wait)
	}
	// A failure after the window ended starts a new count of one.
	if err := th[0].Fail(ctx, "a@x|1.2.3.4", now.Add(16*time.Minute)); err != nil {
		t.Fatal(err)
	}
	for range 8 {
		_ = th[1].Fail(ctx, "a@x|1.2.3.4", now.Add(17*time.Minute))
	}
	if wait, _ := th[1].Blocked(ctx, "a@x|1.2.3.4", now.Add(17*time.Minute)); wait != 0 {
		t.Fatalf("9 failures in the new window blocked for %v", wait)
	}
	_ = th[1].Fail(ctx, "a@x|1.2.3.4", now.Add(17*time.Minute))
	if wait, _ := th[0].Blocked(ctx, "a@x|1.2.3.4", now.Add(17*time.Minute)); wait != 14*time.Minute {
		t.Fatalf("10 failures in the new window: wait %v, want 14m", wait)
	}
	if err := th[0].Reset(ctx, "a@x|1.2.3.4"); err != nil {
		t.Fatal(err)
	}
	if wait, _ := th[1].Blocked(ctx, "a@x|1.2.3.4", now.Add(17*time.Minute)); wait != 0 {
		t.Fatalf("blocked %v after a reset on the other replica", wait)
	}
}
