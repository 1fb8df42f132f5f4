package main

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// TestRunTiny runs every phase at toy sizes against the in-process server:
// the answers of each query are checked inside run, so this fails when a
// query returns wrong data, not only when it errors.
func TestRunTiny(t *testing.T) {
	cfg := defaults()
	cfg.DataDir = t.TempDir()
	cfg.Clients = 2
	cfg.Duration = 300 * time.Millisecond
	cfg.ScalarBatch = 100
	cfg.RolloutBatch = 50
	cfg.TextBytes = 200
	cfg.SeriesPoints = 25_000
	cfg.QueryRollouts = 12_000
	cfg.QueryText = 64
	cfg.Buckets = 100
	cfg.PageSize = 10
	cfg.Repeat = 2
	var out strings.Builder
	// A hung server fails the test in two minutes rather than at the package timeout.
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, cfg, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"points/s", "rollouts/s", "series of 25,000 points -> 100 buckets", "correct>0.99", "full-text query"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
}

func TestQuickKeepsExplicitSizes(t *testing.T) {
	cfg, err := parseFlags([]string{"--quick", "--series-points", "7"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.SeriesPoints != 7 || cfg.QueryRollouts != 20_000 || cfg.Duration != 2*time.Second {
		t.Errorf("quick with an explicit size: %+v", cfg)
	}
	if _, err := parseFlags([]string{"--url", "http://127.0.0.1:1"}, io.Discard); err == nil {
		t.Error("--url without a key was accepted")
	}
}

func TestCount(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567"} {
		if got := count(n); got != want {
			t.Errorf("count(%d) = %q, want %q", n, got, want)
		}
	}
}
