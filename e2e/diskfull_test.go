package e2e

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// tinyDisk mounts a tmpfs of size for the test (root only; skipped
// otherwise, except under CI, which runs as root).
func tinyDisk(t *testing.T, size string) string {
	t.Helper()
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount a tmpfs: %v %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs (needs root): %s", strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() { exec.Command("umount", "-l", dir).Run() })
	return dir
}

// fillDisk writes ballast until the disk is full and returns its path.
func fillDisk(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "ballast")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			return p
		}
	}
}

// TestFullDiskIs507AndRecovers: with the database's disk full, a write is
// answered 507 with a message naming the cause (it was a 500 "internal
// error"), /api/health says degraded, and once space is freed writes
// succeed again without a restart. SQLite on a real full tmpfs; PostgreSQL's
// data directory is the shared test cluster's, which a test cannot fill, so
// its disk_full mapping is held by the store's unit test.
func TestFullDiskIsInsufficientStorageAndRecovers(t *testing.T) {
	disk := tinyDisk(t, "16m")
	tg := startTarget(t, "sqlite:"+disk+"/expt.db")
	id := createExperiment(tg.c)
	postLoss(tg.c, id, 0, 10)
	ballast := fillDisk(t, disk)

	var out map[string]any
	status := 0
	for i := 0; i < 50 && status != http.StatusInsufficientStorage; i++ {
		// The WAL may still have room for a few small batches.
		status = tg.c.do("POST", "/api/experiments/"+id+"/scalars", lossBatch(1000+i*2000, 2000), &out)
	}
	if status != http.StatusInsufficientStorage || !strings.Contains(fmt.Sprint(out["error"]), "storage is full") {
		t.Fatalf("write on a full disk: %d %v, want 507 naming the cause", status, out)
	}
	var h map[string]any
	tg.c.must(http.StatusOK, "GET", "/api/health", nil, &h)
	if h["status"] != "degraded" {
		t.Errorf("health on a full disk: %v, want degraded", h)
	}
	tg.c.must(http.StatusOK, "GET", "/api/experiments/"+id, nil, nil) // reads still work

	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	tg.c.must(http.StatusOK, "POST", "/api/experiments/"+id+"/scalars", lossBatch(500, 5), nil)
	tg.c.must(http.StatusOK, "GET", "/api/health", nil, &h)
	if h["status"] != "ok" {
		t.Errorf("health after space was freed and a write succeeded: %v", h)
	}
	if n := countLoss(tg.c, id); n < 15 {
		t.Errorf("%d points after recovery, want the 10 before and the 5 after at least", n)
	}
}
