// Command export measures the export path on the embedded store: points
// and rollout text written as Parquet, CSV and JSON Lines from SQLite. Each
// export runs in a child process of its own on the seeded database, so its
// peak RSS (VmHWM) is the export's alone.
//
//	go run ./bench/export                 # 2,000,000 points, 4,000 rollouts of 20 KB
//	go run ./bench/export --points 200000 --rollouts 500
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/export"
	"github.com/expt-logger/expt/sqlite"
)

func main() {
	points := flag.Int("points", 2_000_000, "scalar points (100 metrics)")
	rollouts := flag.Int("rollouts", 4000, "rollouts")
	text := flag.Int("text", 20_000, "bytes of text per rollout")
	profile := flag.String("cpuprofile", "", "write a CPU profile of the exports to this file")
	child := flag.String("child", "", "internal: run one export (FORMAT/KIND on DB/EXPERIMENT) and report")
	flag.StringVar(&only, "only", "", "run only the exports of this format and kind (parquet/long, csv/rollouts...)")
	flag.Parse()
	if *profile != "" {
		f, err := os.Create(*profile)
		if err != nil {
			fmt.Fprintln(os.Stderr, "export:", err)
			os.Exit(1)
		}
		cpuProfile = f
	}
	if *child != "" {
		if err := runChild(*child); err != nil {
			fmt.Fprintln(os.Stderr, "export:", err)
			os.Exit(1)
		}
		return
	}

	if err := run(*points, *rollouts, *text); err != nil {
		fmt.Fprintln(os.Stderr, "export:", err)
		os.Exit(1)
	}
}

func run(points, rollouts, textBytes int) error {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "expt-bench-export")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := sqlite.Open(ctx, filepath.Join(dir, "expt.db"))
	if err != nil {
		return err
	}
	defer db.Close()
	u := &expt.User{Email: "bench@example.com"}
	if err := db.CreateUser(ctx, u); err != nil {
		return err
	}
	e := &expt.Experiment{ID: expt.NewUUID(), UserID: u.ID, Name: "bench"}
	if _, err := db.CreateExperiment(ctx, e); err != nil {
		return err
	}
	fmt.Printf("seeding %d points and %d rollouts of %d bytes...\n", points, rollouts, textBytes)
	rng := rand.New(rand.NewPCG(1, 2))
	const metrics = 100
	batch := make([]expt.Scalar, 0, 100_000)
	for i := 0; i < points; i++ {
		batch = append(batch, expt.Scalar{Step: int64(i / metrics), Mode: "train", Name: fmt.Sprintf("metric/%02d", i%metrics), Value: rng.NormFloat64(), TS: 1.7e9 + float64(i)/1e3})
		if len(batch) == cap(batch) || i == points-1 {
			if _, err := db.WriteScalars(ctx, e.ID, batch, ""); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	var textTotal int64
	var rb []*expt.Rollout
	for i := 0; i < rollouts; i++ {
		body := reasoning(rng, textBytes)
		textTotal += int64(len(body))
		rb = append(rb, &expt.Rollout{Step: int64(i / 1024), Mode: "train", Prompt: fmt.Sprintf("Problem %d: prove that $x^2 \\ge 0$.", i%64),
			Messages: []expt.Message{{Role: "assistant", Content: body, Raw: mustJSON(map[string]string{"role": "assistant", "content": body})}},
			Rewards:  []expt.Reward{{Name: "correct", Value: float64(i % 2)}, {Name: "format", Value: 1}}})
		if len(rb) == 200 || i == rollouts-1 {
			if _, err := db.WriteRollouts(ctx, e.ID, rb, ""); err != nil {
				return err
			}
			rb = rb[:0]
		}
	}
	db.Close()
	for _, f := range []export.Format{export.Parquet, export.CSV, export.JSONL} {
		for _, kind := range []string{"long", "wide", "rollouts"} {
			if only != "" && only != string(f)+"/"+kind {
				continue
			}
			cmd := exec.Command(os.Args[0], append(os.Args[1:len(os.Args):len(os.Args)], "--child", strings.Join([]string{string(f), kind, filepath.Join(dir, "expt.db"), e.ID}, "|"))...)
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			if err != nil {
				return fmt.Errorf("%s %s: %w", f, kind, err)
			}
			var r struct {
				Seconds float64
				Bytes   int64
				RSS     int64
				Heap    int64
				Rows    int64
			}
			if err := json.Unmarshal(out, &r); err != nil {
				return fmt.Errorf("%s %s: %q: %w", f, kind, out, err)
			}
			if kind == "rollouts" {
				fmt.Printf("rollouts %-7s      %9d rollouts in %6.2fs: %7.1f MB/s of text, %6.1f MB out, peak RSS %5.1f MB, Go heap %5.1f MB\n",
					f, r.Rows, r.Seconds, float64(textTotal)/1e6/r.Seconds, float64(r.Bytes)/1e6, float64(r.RSS)/1e6, float64(r.Heap)/1e6)
				continue
			}
			fmt.Printf("scalars  %-7s %-4s %9d points   in %6.2fs: %9.0f points/s, %6.1f MB out, peak RSS %5.1f MB, Go heap %5.1f MB\n",
				f, kind, points, r.Seconds, float64(points)/r.Seconds, float64(r.Bytes)/1e6, float64(r.RSS)/1e6, float64(r.Heap)/1e6)
		}
	}
	return nil
}

var (
	cpuProfile *os.File
	only       string
)

// runChild runs one export on the seeded database and prints its time,
// output size, rows and the process's peak RSS as JSON.
func runChild(spec string) error {
	parts := strings.Split(spec, "|")
	if len(parts) != 4 {
		return fmt.Errorf("bad --child %q", spec)
	}
	ctx := context.Background()
	db, err := sqlite.Open(ctx, parts[2])
	if err != nil {
		return err
	}
	defer db.Close()
	f, kind, id := export.Format(parts[0]), parts[1], parts[3]
	if cpuProfile != nil {
		if err := pprof.StartCPUProfile(cpuProfile); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	w := &counter{}
	var rows int64
	heapProfile := os.Getenv("EXPT_BENCH_HEAP_PROFILE") // written once rows pass EXPT_BENCH_HEAP_AT
	var heapAt int64
	fmt.Sscan(os.Getenv("EXPT_BENCH_HEAP_AT"), &heapAt)
	progress := func(n int64) {
		if heapProfile != "" && rows < heapAt && n >= heapAt {
			runtime.GC()
			if f, err := os.Create(heapProfile); err == nil {
				pprof.WriteHeapProfile(f)
				f.Close()
			}
		}
		rows = n
	}
	var heap atomic.Uint64
	done := make(chan struct{})
	go func() { // the Go heap's peak, sampled: what the export itself holds, without SQLite's page cache
		var m runtime.MemStats
		for {
			select {
			case <-done:
				return
			case <-time.After(2 * time.Millisecond):
				runtime.ReadMemStats(&m)
				if m.HeapInuse > heap.Load() {
					heap.Store(m.HeapInuse)
				}
			}
		}
	}()
	start := time.Now()
	if kind == "rollouts" {
		err = export.WriteRollouts(ctx, db, export.Rollouts{Experiments: []string{id}}, f, w, progress)
	} else {
		err = export.WriteScalars(ctx, db, export.Scalars{Experiments: []string{id}, Wide: kind == "wide"}, f, w, progress)
	}
	if err != nil {
		return err
	}
	d := time.Since(start)
	close(done)
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"Seconds": d.Seconds(), "Bytes": w.n.Load(), "RSS": peakRSS(), "Heap": heap.Load(), "Rows": rows})
}

// peakRSS is the process's peak resident set size (VmHWM), in bytes.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), &kb)
			return kb << 10
		}
	}
	return 0
}

// counter is the export's output: it counts the bytes and drops them.
type counter struct{ n atomic.Int64 }

func (c *counter) Write(p []byte) (int, error) { c.n.Add(int64(len(p))); return len(p), nil }

// reasoning is a realistic completion: a <think> block, LaTeX and code.
func reasoning(rng *rand.Rand, n int) string {
	var b strings.Builder
	b.WriteString("<think>")
	for b.Len() < n-200 {
		switch rng.IntN(4) {
		case 0:
			fmt.Fprintf(&b, "Let $f(x) = x^{%d} + %d x$; then $f'(x) = %d x^{%d} + %d$. ", rng.IntN(9)+2, rng.IntN(50), rng.IntN(9)+2, rng.IntN(8)+1, rng.IntN(50))
		case 1:
			fmt.Fprintf(&b, "```python\ndef check(n):\n    return sum(i * i for i in range(n)) == %d\n```\n", rng.IntN(100000))
		case 2:
			fmt.Fprintf(&b, "Wait, step %d does not follow: the bound needs $\\sum_{k=1}^{n} k^2 = \\frac{n(n+1)(2n+1)}{6}$. ", rng.IntN(40))
		default:
			fmt.Fprintf(&b, "So the candidate is %d, and checking %d cases confirms it. ", rng.IntN(1000), rng.IntN(30))
		}
	}
	b.WriteString("</think>\nTherefore the answer is $\\boxed{0}$.")
	return b.String()
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
