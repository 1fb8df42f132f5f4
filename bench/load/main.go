// Command load is the expt-logger load generator. It starts a server in
// process on a loopback port (or targets one given with --url and --key),
// then measures over HTTP what training jobs and the UI do most: scalar and
// rollout ingestion under concurrent clients, and the queries behind charts,
// rollout filters and search.
//
//	go run ./bench/load            # full sizes: 1M points, 1M rollouts, minutes
//	go run ./bench/load --quick    # small sizes: seconds
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"time"

	"github.com/expt-logger/expt"
)

// config holds every size the benchmark uses.
type config struct {
	URL, Key string // empty: start a server in process
	DataDir  string // in-process server's data directory; empty: a temporary one
	Keep     bool   // keep the temporary data directory

	Clients       int
	Duration      time.Duration // how long each ingestion phase runs
	ScalarBatch   int
	RolloutBatch  int
	TextBytes     int // text per rollout in the ingestion phase
	SeriesPoints  int // points of the series the downsampling query reads
	QueryRollouts int // rollouts the filter and search queries look through
	QueryText     int // text per rollout of the query data set
	Buckets       int
	PageSize      int
	Repeat        int // each query runs this many times; the median is reported
}

func defaults() config {
	return config{
		Clients: 4, Duration: 20 * time.Second, ScalarBatch: 1000, RolloutBatch: 1000, TextBytes: 1024,
		SeriesPoints: 1_000_000, QueryRollouts: 1_000_000, QueryText: 256,
		Buckets: 1000, PageSize: 50, Repeat: 5,
	}
}

// quick shrinks the sizes so that a run takes seconds (for CI and trying it out).
func (c *config) quick() {
	c.Duration = 2 * time.Second
	c.SeriesPoints = 50_000
	c.QueryRollouts = 20_000
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(2)
	} else if err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(2)
	}
	if err := run(ctx, cfg, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	c := defaults()
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quick := fs.Bool("quick", false, "small sizes (seconds); explicit size flags still win")
	fs.StringVar(&c.URL, "url", "", "target this running server instead of starting one (needs --key)")
	fs.StringVar(&c.Key, "key", os.Getenv("EXPT_LOGGER_API_KEY"), "API key for --url (env EXPT_LOGGER_API_KEY)")
	fs.StringVar(&c.DataDir, "data", "", "data directory of the in-process server (default: a temporary one)")
	fs.BoolVar(&c.Keep, "keep", false, "keep the temporary data directory")
	fs.IntVar(&c.Clients, "clients", c.Clients, "concurrent clients")
	fs.DurationVar(&c.Duration, "duration", c.Duration, "length of each ingestion phase")
	fs.IntVar(&c.ScalarBatch, "scalar-batch", c.ScalarBatch, "points per scalar request")
	fs.IntVar(&c.RolloutBatch, "rollout-batch", c.RolloutBatch, "rollouts per rollout request")
	fs.IntVar(&c.TextBytes, "text-bytes", c.TextBytes, "bytes of text per rollout in the ingestion phase")
	fs.IntVar(&c.SeriesPoints, "series-points", c.SeriesPoints, "points in the series the downsampling query reads")
	fs.IntVar(&c.QueryRollouts, "query-rollouts", c.QueryRollouts, "rollouts the filter and full-text queries search")
	fs.IntVar(&c.QueryText, "query-text-bytes", c.QueryText, "bytes of text per rollout of the query data set")
	fs.IntVar(&c.Buckets, "buckets", c.Buckets, "maxPoints of the series query")
	fs.IntVar(&c.PageSize, "page", c.PageSize, "page size of the rollout queries")
	fs.IntVar(&c.Repeat, "repeat", c.Repeat, "runs of each query (median reported)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if *quick {
		// Apply the preset, then re-apply what was given explicitly.
		given := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
		q := c
		q.quick()
		if !given["duration"] {
			c.Duration = q.Duration
		}
		if !given["series-points"] {
			c.SeriesPoints = q.SeriesPoints
		}
		if !given["query-rollouts"] {
			c.QueryRollouts = q.QueryRollouts
		}
	}
	if c.URL != "" && c.Key == "" {
		return c, errors.New("--url needs --key (or EXPT_LOGGER_API_KEY)")
	}
	for name, v := range map[string]int{"clients": c.Clients, "scalar-batch": c.ScalarBatch, "rollout-batch": c.RolloutBatch,
		"series-points": c.SeriesPoints, "query-rollouts": c.QueryRollouts, "buckets": c.Buckets, "page": c.PageSize, "repeat": c.Repeat} {
		if v <= 0 {
			return c, fmt.Errorf("--%s must be positive", name)
		}
	}
	return c, nil
}

// run executes every phase and prints the table to out; progress goes to log.
func run(ctx context.Context, cfg config, out, log io.Writer) error {
	target := cfg.URL
	key := cfg.Key
	where := "server at " + cfg.URL
	if target == "" {
		srv, err := startServer(ctx, cfg.DataDir, cfg.Keep, log)
		if err != nil {
			return err
		}
		defer srv.close()
		target, key = srv.url, srv.key
		where = "in-process server, SQLite at " + srv.path
	}
	c := newClient(target, key, cfg.Clients)
	var rows []row

	fmt.Fprintf(log, "scalar ingestion: %d clients, %d points/request, %s\n", cfg.Clients, cfg.ScalarBatch, cfg.Duration)
	r, err := ingestScalars(ctx, c, cfg)
	if err != nil {
		return fmt.Errorf("scalar ingestion: %w", err)
	}
	rows = append(rows, r)

	fmt.Fprintf(log, "rollout ingestion: %d clients, %d rollouts/request of %d bytes, %s\n", cfg.Clients, cfg.RolloutBatch, cfg.TextBytes, cfg.Duration)
	if r, err = ingestRollouts(ctx, c, cfg); err != nil {
		return fmt.Errorf("rollout ingestion: %w", err)
	}
	rows = append(rows, r)

	fmt.Fprintf(log, "loading %d points into one series\n", cfg.SeriesPoints)
	qr, err := querySeries(ctx, c, cfg, log)
	if err != nil {
		return fmt.Errorf("series query: %w", err)
	}
	rows = append(rows, qr)

	fmt.Fprintf(log, "loading %d rollouts of %d bytes for the rollout queries\n", cfg.QueryRollouts, cfg.QueryText)
	rr, err := queryRollouts(ctx, c, cfg, log)
	if err != nil {
		return fmt.Errorf("rollout queries: %w", err)
	}
	rows = append(rows, rr...)

	fmt.Fprintf(out, "expt load benchmark: expt %s, %s, %s/%s, GOMAXPROCS=%d, %d CPUs\n%s\n\n",
		expt.Version, runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), runtime.NumCPU(), where)
	printTable(out, rows)
	return nil
}
