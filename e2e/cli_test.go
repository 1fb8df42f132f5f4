package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/expt-logger/expt/api"
	exptclient "github.com/expt-logger/expt/client"
)

// TestRemoteCLI drives expt login, ls, show, export and rm against the real
// server, as a user at a shell would: the key saved 0600, the listing and
// the latest metrics printed, exports written whole in each format, and a
// delete that asks first.
func TestRemoteCLI(t *testing.T) {
	data := t.TempDir()
	key := createKey(t, data)
	p := startServer(t, nil, "--data", data)
	ctx := context.Background()
	c := exptclient.New(p.URL, key)
	var ids []string
	for i, name := range []string{"grpo-a", "grpo-b"} {
		run, _ := c.Start(ctx, exptclient.RunOptions{Name: name, Project: "math", Config: map[string]any{"lr": 3e-6}})
		for step := range 500 {
			run.Log(int64(step), map[string]float64{"train/loss": 1 / float64(step+1+i), "eval/acc": float64(step) / 1000})
		}
		for j := range 20 {
			run.LogRollout(longRollout(j))
		}
		if err := run.End(ctx, "complete"); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, run.ID)
	}
	cfg := filepath.Join(t.TempDir(), "expt", "config.json")
	env := []string{"EXPT_CONFIG=" + cfg}

	if _, errOut, err := exptStdin("expt_"+strings.Repeat("A", 43)+"\n", env, "login", p.URL); err == nil || !strings.Contains(errOut, "does not accept that key") {
		t.Fatalf("login with a wrong key: %v %s", err, errOut)
	}
	out, errOut, err := exptStdin(key+"\n", env, "login", p.URL)
	if err != nil || !strings.Contains(out, "logged in to "+p.URL+" as "+e2eUser) {
		t.Fatalf("login: %v %s %s", err, out, errOut)
	}
	st, err := os.Stat(cfg)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v %v, want mode 0600", st.Mode(), err)
	}
	if b, _ := os.ReadFile(cfg); !strings.Contains(string(b), key) {
		t.Fatal("the key is not in the config file")
	}

	ls := expt(t, env, "ls", "--project", "math")
	lines := strings.Split(strings.TrimSpace(ls), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], ids[1]) || !strings.Contains(lines[1], "grpo-b") || !strings.Contains(lines[2], "complete") || !strings.Contains(lines[2], "499") {
		t.Fatalf("ls:\n%s", ls)
	}
	if ls := expt(t, env, "ls", "--name", "grpo-a"); strings.Contains(ls, ids[1]) || !strings.Contains(ls, ids[0]) {
		t.Fatalf("ls --name grpo-a:\n%s", ls)
	}
	show := expt(t, env, "show", ids[0])
	for _, want := range []string{`name\s+grpo-a\n`, `status\s+complete\n`, `project\s+math\n`, `"lr": 0.000003`, `METRIC\s+STEP\s+VALUE\s+POINTS`,
		`eval/acc\s+499\s+0.499\s+500\n`, `train/loss\s+499\s+0.002\s+500\n`} {
		if !regexp.MustCompile(want).MatchString(show) {
			t.Fatalf("show lacks %q:\n%s", want, show)
		}
	}

	for _, f := range []string{"parquet", "csv", "jsonl"} {
		dir := filepath.Join(t.TempDir(), f)
		out := expt(t, env, "export", ids[0], "--format", f, "-o", dir)
		for _, kind := range []string{"scalars", "rollouts"} {
			b, err := os.ReadFile(filepath.Join(dir, kind+"."+f))
			if err != nil || !strings.Contains(out, kind+"."+f) {
				t.Fatalf("export %s: %v\n%s", f, err, out)
			}
			switch f {
			case "parquet":
				if len(b) < 8 || string(b[:4]) != "PAR1" || string(b[len(b)-4:]) != "PAR1" {
					t.Fatalf("%s.parquet is not a whole Parquet file", kind)
				}
			case "csv":
				if n := strings.Count(string(b), "\n"); (kind == "scalars" && n != 1001) || (kind == "rollouts" && n != 21) {
					t.Fatalf("%s.csv: %d lines", kind, n)
				}
			case "jsonl":
				if n := strings.Count(string(b), "\n"); (kind == "scalars" && n != 1000) || (kind == "rollouts" && n != 20) {
					t.Fatalf("%s.jsonl: %d lines", kind, n)
				}
			}
		}
		left, _ := filepath.Glob(filepath.Join(dir, ".*part*"))
		if len(left) > 0 {
			t.Fatalf("temporary files left: %v", left)
		}
	}
	// Two experiments in one pair of files, a column naming each.
	dir := t.TempDir()
	expt(t, env, "export", ids[0], ids[1], "--format", "jsonl", "--only", "rollouts", "-o", dir)
	b, _ := os.ReadFile(filepath.Join(dir, "rollouts.jsonl"))
	seen := map[string]int{}
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var r struct{ Experiment string }
		json.Unmarshal([]byte(l), &r)
		seen[r.Experiment]++
	}
	if seen[ids[0]] != 20 || seen[ids[1]] != 20 {
		t.Fatalf("set export: %v", seen)
	}
	if _, errOut, err := exptResult(env, "export", ids[0], "--format", "xlsx"); err == nil || !strings.Contains(errOut, "--format must be") {
		t.Fatalf("a bad format: %v %s", err, errOut)
	}

	if _, errOut, err := exptResult(env, "rm", ids[1]); err == nil || !strings.Contains(errOut, "--yes") {
		t.Fatalf("rm without --yes off a terminal: %v %s", err, errOut)
	}
	if out := expt(t, env, "rm", ids[1], "--yes"); !strings.Contains(out, "deleted "+ids[1]) {
		t.Fatalf("rm: %s", out)
	}
	if _, errOut, err := exptResult(env, "show", ids[1]); err == nil || !strings.Contains(errOut, "404") {
		t.Fatalf("show after rm: %v %s", err, errOut)
	}
	// Flags and the environment win over the saved login.
	if _, errOut, err := exptResult(append(env, "EXPT_LOGGER_API_KEY=expt_"+strings.Repeat("B", 43)), "ls"); err == nil || !strings.Contains(errOut, "401") {
		t.Fatalf("ls with a wrong key in the environment: %v %s", err, errOut)
	}
	var list api.Experiments
	(&client{t: t, base: p.URL, auth: bearer(key)}).must(200, "GET", "/api/experiments", nil, &list)
	if list.Total != 1 {
		t.Fatalf("%d experiments left, want 1", list.Total)
	}
}
