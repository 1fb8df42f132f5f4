package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/expt-logger/expt/client"
)

// runExport downloads experiments' scalars and rollouts into a folder:
// expt export ID... --format parquet|csv|jsonl -o DIR. Several ids go into
// one pair of files, a column naming the experiment. A transfer cut short
// leaves no file behind.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("export", flag.ContinueOnError)
	var r remoteFlags
	r.add(fs)
	format := fs.String("format", "parquet", "parquet, csv or jsonl")
	out := fs.String("o", ".", "the folder to write scalars.FORMAT and rollouts.FORMAT into")
	only := fs.String("only", "", "scalars or rollouts: just that file")
	wide := fs.Bool("wide", false, "scalars as a row per step and a column per metric")
	ids, err := parseRemote(fs, args, stderr)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return errors.New("usage: expt export ID... [--format parquet|csv|jsonl] [-o DIR]")
	}
	switch *format {
	case "parquet", "csv", "jsonl":
	default:
		return fmt.Errorf("export: --format must be parquet, csv or jsonl, not %q", *format)
	}
	kinds := []string{"scalars", "rollouts"}
	switch *only {
	case "":
	case "scalars", "rollouts":
		kinds = []string{*only}
	default:
		return fmt.Errorf("export: --only must be scalars or rollouts, not %q", *only)
	}
	c, err := r.client()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	for _, kind := range kinds {
		dest := filepath.Join(*out, kind+"."+*format)
		n, err := download(ctx, c, client.ExportRequest{Experiments: ids, Kind: kind, Format: *format, Wide: *wide && kind == "scalars"}, dest, stderr)
		if err != nil {
			return fmt.Errorf("export %s: %w", kind, err)
		}
		fmt.Fprintf(stdout, "%s\t%s\n", dest, humanBytes(n))
	}
	return nil
}

// download streams one export into dest through a temporary file, with a
// progress line on a terminal.
func download(ctx context.Context, c *client.Client, req client.ExportRequest, dest string, stderr io.Writer) (int64, error) {
	body, err := c.Export(ctx, req)
	if err != nil {
		return 0, err
	}
	defer body.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".part-*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	p := &progress{w: stderr, tty: isTerminal(stderr), what: filepath.Base(dest), start: time.Now()}
	n, err := io.Copy(tmp, io.TeeReader(body, p))
	p.done()
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("the transfer was cut short after %s: %w", humanBytes(n), err)
	}
	return n, os.Rename(tmp.Name(), dest)
}

// progress draws "what  12.3 MB  45.6 MB/s" on one terminal line, at most
// ten times a second.
type progress struct {
	w     io.Writer
	tty   bool
	what  string
	n     int64
	start time.Time
	last  time.Time
}

func (p *progress) Write(b []byte) (int, error) {
	p.n += int64(len(b))
	if p.tty && time.Since(p.last) > 100*time.Millisecond {
		p.last = time.Now()
		p.draw()
	}
	return len(b), nil
}

func (p *progress) draw() {
	secs := max(time.Since(p.start).Seconds(), 1e-3)
	fmt.Fprintf(p.w, "\r%-16s %10s  %10s/s  %5.1fs", p.what, humanBytes(p.n), humanBytes(int64(float64(p.n)/secs)), secs)
}

func (p *progress) done() {
	if p.tty {
		p.draw()
		fmt.Fprintln(p.w)
	}
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
