package e2e

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/expt-logger/expt/sqlite"
)

// TestBackupWhileWriting: `expt backup` copies a running server's database
// while a client keeps writing. The copy passes integrity_check, opens, and
// holds every batch acknowledged before the backup started; `expt restore`
// puts it in place of another installation, which then serves it.
func TestBackupWhileWriting(t *testing.T) {
	data := t.TempDir()
	key := createKey(t, data)
	p := startServer(t, nil, "--data", data)
	c := &client{t: t, base: p.URL, auth: bearer(key)}
	id := createExperiment(c)
	var acked atomic.Int64 // batches of 100 points acknowledged, in order
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if c.do("POST", "/api/experiments/"+id+"/scalars", lossBatch(i*100, 100), nil) != http.StatusOK {
				t.Errorf("write %d failed", i)
				return
			}
			acked.Add(1)
		}
	}()
	time.Sleep(300 * time.Millisecond)
	before := acked.Load()
	file := filepath.Join(t.TempDir(), "backup.db")
	out := expt(t, nil, "backup", "--data", data, "--to", file)
	time.Sleep(100 * time.Millisecond) // writes go on after the backup
	close(stop)
	wg.Wait()
	if !strings.Contains(out, "integrity check ok") {
		t.Errorf("backup printed %q", out)
	}
	if before == 0 {
		t.Fatal("no batch was acknowledged before the backup")
	}

	db, err := sqlite.Open(context.Background(), file)
	if err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	pts, err := db.Scalars(context.Background(), id, "train")
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if got := int64(len(pts["loss"])); got < before*100 {
		t.Errorf("the backup holds %d points, want at least the %d acknowledged before it started", got, before*100)
	}

	// Restore into a new installation and serve it.
	other := t.TempDir()
	expt(t, nil, "restore", "--from", file, "--data", other)
	p2 := startServer(t, nil, "--data", other, "--addr", "127.0.0.1:0")
	c2 := &client{t: t, base: p2.URL, auth: bearer(key)}
	if n := countLoss(c2, id); int64(n) < before*100 {
		t.Errorf("restored server has %d points, want at least %d", n, before*100)
	}
	// A second restore over it refuses without --force.
	if _, _, err := exptResult(nil, "restore", "--from", file, "--data", other); err == nil {
		t.Error("restore over an existing database without --force succeeded")
	}
}
