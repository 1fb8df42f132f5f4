package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/expt-logger/expt/postgres/pgtest"
	"github.com/jackc/pgx/v5"
)

// tinyDisk mounts a tmpfs of size for the test (root only; skipped
// otherwise, except under CI, which runs as root).
func tinyDisk(t *testing.T, size string) string {
	t.Helper()
	// Not t.TempDir: its parents are private to root, and PostgreSQL's
	// server (user postgres) must reach a tablespace here.
	dir, err := os.MkdirTemp("", "expt-disk-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0755", "tmpfs", dir).CombinedOutput(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mount a tmpfs: %v %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs (needs root): %s", strings.TrimSpace(string(out)))
	}
	t.Cleanup(func() {
		exec.Command("umount", "-l", dir).Run()
		os.RemoveAll(dir)
	})
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

// TestFullDiskIsInsufficientStorageAndRecovers: with the database's disk
// full, a write is answered 507 with a message naming the cause (it was a
// 500 "internal error"), /api/health says degraded, reads go on, and once
// space is freed writes succeed again without a restart. SQLite's file and
// PostgreSQL's tables (a tablespace) each on a real, filled tmpfs.
func TestFullDiskIsInsufficientStorageAndRecovers(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		disk := tinyDisk(t, "16m")
		fullDiskScenario(t, disk, startTarget(t, "sqlite:"+disk+"/expt.db"))
	})
	t.Run("postgres", func(t *testing.T) {
		server := os.Getenv(pgtest.EnvURL)
		if server == "" {
			pgtest.URL(t) // skips, or fails under CI
		}
		disk := tinyDisk(t, "16m")
		ts := filepath.Join(disk, "ts")
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Skipf("no postgres user to own a tablespace: %v", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Mkdir(ts, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(ts, uid, gid); err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		conn, err := pgx.Connect(ctx, server)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(ctx)
		name := fmt.Sprintf("tfull_%d", time.Now().UnixNano())
		if _, err := conn.Exec(ctx, `CREATE TABLESPACE `+name+` LOCATION '`+ts+`'`); err != nil {
			t.Fatalf("create tablespace: %v", err)
		}
		// Registered before the schema: cleanups run last first, and the
		// tablespace can go only once the schema's tables have.
		t.Cleanup(func() {
			c, err := pgx.Connect(context.Background(), server)
			if err == nil {
				c.Exec(context.Background(), `DROP TABLESPACE IF EXISTS `+name)
				c.Close(context.Background())
			}
		})
		// pgx passes unknown URL parameters as settings: every table the
		// server creates goes into the small tablespace.
		fullDiskScenario(t, disk, startTarget(t, pgtest.URL(t)+"&default_tablespace="+name))
	})
}

func fullDiskScenario(t *testing.T, disk string, tg *target) {
	id := createExperiment(tg.c)
	postLoss(tg.c, id, 0, 10)
	ballast := fillDisk(t, disk)

	var out map[string]any
	status := 0
	for i := 0; i < 50 && status != http.StatusInsufficientStorage; i++ {
		// Pages or the WAL may still have room for a few small batches.
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
