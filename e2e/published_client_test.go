package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// publishedClientPython is the interpreter of a venv holding the published
// expt-logger client from the package index, unchanged (`make compat-venv`).
func publishedClientPython(t *testing.T) string {
	t.Helper()
	py := os.Getenv("PUBLISHED_CLIENT_PYTHON")
	if py == "" {
		py, _ = filepath.Abs("../.venv-compat/bin/python")
	}
	if _, err := os.Stat(py); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no published client at %s: CI must run `make compat-venv`", py)
		}
		t.Skipf("no published client at %s: run `make compat-venv`", py)
	}
	return py
}

// TestPublishedClient runs the already-published expt-logger client against
// the real server: init with config, batched logs, rollouts with its own
// ids, environment logs, errors, a config change, end, and its per-id delete.
// The script checks every value it logged came back.
func TestPublishedClient(t *testing.T) {
	py := publishedClientPython(t)
	dir := t.TempDir()
	p := startServer(t, nil, "--addr", "127.0.0.1:0", "--data", dir)
	key := createKey(t, dir)
	runPublishedClient(t, py, p.URL, key)
}

func runPublishedClient(t *testing.T, py, base, key string, env ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, "testdata/published_client.py")
	// The client keeps its experiment id in a file under the temp folder:
	// give it one of its own so parallel runs cannot attach to each other.
	cmd.Env = append(append(cleanEnv(), "EXPT_LOGGER_BASE_URL="+base, "EXPT_LOGGER_API_KEY="+key, "TMPDIR="+t.TempDir()), env...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "published client: ok") {
		t.Fatalf("published client against our server: %v\n%s", err, out)
	}
}

// TestPublishedClientWithProjectKey: the published client, unchanged, with
// a key limited to one shared project (made with `expt keys create
// --project`) logs into that project, reads its run back and deletes it;
// the same key cannot see the owner's personal project.
func TestPublishedClientWithProjectKey(t *testing.T) {
	py := publishedClientPython(t)
	dir := t.TempDir()
	p := startServer(t, nil, "--addr", "127.0.0.1:0", "--data", dir)
	owner := &client{t: t, base: p.URL, auth: bearer(createKey(t, dir))}
	var proj struct {
		ID int64 `json:"id"`
	}
	owner.must(201, "POST", "/api/projects", map[string]string{"name": "math-grpo"}, &proj)
	mine := createExperiment(owner) // in the owner's personal project
	key := strings.TrimSpace(expt(t, nil, "keys", "create", "--name", "job", "--project", "math-grpo", "--data", dir))
	runPublishedClient(t, py, p.URL, key, fmt.Sprintf("EXPECT_PROJECT_ID=%d", proj.ID))
	scoped := &client{t: t, base: p.URL, auth: bearer(key)}
	if code := scoped.do("GET", "/api/experiments/"+mine, nil, nil); code != 404 {
		t.Errorf("the project key reads the owner's personal run: %d", code)
	}
}
