package e2e

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestVersion(t *testing.T) {
	out := expt(t, nil, "version")
	want := fmt.Sprintf("expt %s %s\n", buildVersion, runtime.Version())
	if out != want {
		t.Fatalf("expt version = %q, want %q", out, want)
	}
}

// TestKeysCreateWhileServing: a key made by the CLI on the database a server
// has open works on the very next request, with no restart.
func TestKeysCreateWhileServing(t *testing.T) {
	dir := t.TempDir()
	p := startServer(t, nil, "--addr", "127.0.0.1:0", "--data", dir)
	// No account yet: keys create refuses rather than make one nobody can
	// sign in to, and says what to do.
	for _, extra := range [][]string{nil, {"--email", "nobody@example.com"}} {
		_, errOut, err := exptResult(nil, append([]string{"keys", "create", "--name", "x", "--data", dir}, extra...)...)
		if err == nil || !strings.Contains(errOut, "expt users create") {
			t.Errorf("keys create %v on an empty database: %v, %q", extra, err, errOut)
		}
	}
	ensureUser(t, dir, "alice@example.com")
	ensureUser(t, dir, "bob@example.com")
	for _, c := range []struct {
		extra []string
		want  string
	}{{nil, "alice@example.com"}, {[]string{"--email", "bob@example.com"}, "bob@example.com"}} {
		key := strings.TrimSpace(expt(t, nil, append([]string{"keys", "create", "--name", "e2e", "--data", dir}, c.extra...)...))
		cl := &client{t: t, base: p.URL, auth: bearer(key)}
		var me struct {
			User struct {
				Email string `json:"email"`
				Admin bool   `json:"admin"`
			} `json:"user"`
		}
		cl.must(200, "GET", "/api/me", nil, &me)
		if me.User.Email != c.want || me.User.Admin != (c.want == "alice@example.com") {
			t.Errorf("key made with %v belongs to %+v, want %s (the first account is the admin)", c.extra, me.User, c.want)
		}
		cl.must(200, "POST", "/api/experiments", map[string]any{"name": "x"}, nil)
		// The account the key belongs to signs in with its password.
		cl = &client{t: t, base: p.URL, auth: func(*http.Request) {}}
		cl.must(200, "POST", "/api/auth/sign-in/email", map[string]string{"email": c.want, "password": e2ePassword}, nil)
	}
	list := expt(t, nil, "keys", "list", "--data", dir)
	// The name as a column: a random id or prefix may hold "e2e" too.
	named := regexp.MustCompile(`(?m)\se2e\s`)
	if n := len(named.FindAllString(list, -1)); n != 1 {
		t.Errorf("keys list for the admin shows %d keys, want 1:\n%s", n, list)
	}
	// Disabled from the CLI while the server runs: bob's key stops on the next request.
	bob := &client{t: t, base: p.URL, auth: bearer(createKey(t, dir, "--email", "bob@example.com"))}
	bob.must(200, "GET", "/api/me", nil, nil)
	expt(t, nil, "users", "disable", "--email", "bob@example.com", "--data", dir)
	if code := bob.do("GET", "/api/me", nil, nil); code != 401 {
		t.Errorf("a disabled user's key: %d, want 401", code)
	}
	if out := expt(t, nil, "users", "list", "--data", dir); !regexp.MustCompile(`bob@example.com\s+bob\s+user\s+disabled`).MatchString(out) {
		t.Errorf("users list:\n%s", out)
	}
}

func TestKeysRevoke(t *testing.T) {
	dir := t.TempDir()
	key := createKey(t, dir)
	list := expt(t, nil, "keys", "list", "--data", dir)
	id := regexp.MustCompile(`(?m)^([0-9a-f-]{36})\s+e2e\s`).FindStringSubmatch(list)
	if id == nil {
		t.Fatalf("no key id in keys list:\n%s", list)
	}
	expt(t, nil, "keys", "revoke", "--data", dir, id[1])
	p := startServer(t, nil, "--addr", "127.0.0.1:0", "--data", dir)
	c := &client{t: t, base: p.URL, auth: bearer(key)}
	if code := c.do("GET", "/api/me", nil, nil); code != 401 {
		t.Errorf("revoked key: %d, want 401", code)
	}
}

// TestSIGTERMThenRestart: a clean stop exits 0, and a new server on the same
// data directory has everything.
func TestSIGTERMThenRestart(t *testing.T) {
	dir := t.TempDir()
	key := createKey(t, dir)
	p := startServer(t, nil, "--addr", "127.0.0.1:0", "--data", dir)
	c := &client{t: t, base: p.URL, auth: xAPIKey(key)}
	id := createExperiment(c)
	postLoss(c, id, 0, 500)

	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code after SIGTERM = %d, want 0\n%s", code, p.stderr.String())
	}
	p2 := startServer(t, nil, "--addr", "127.0.0.1:0", "--data", dir)
	c2 := &client{t: t, base: p2.URL, auth: bearer(key)}
	if n := countLoss(c2, id); n != 500 {
		t.Fatalf("after restart: %d loss points, want 500", n)
	}
	if code := p2.stop(t, os.Interrupt); code != 0 {
		t.Fatalf("exit code after SIGINT = %d, want 0", code)
	}
}

// TestSIGKILLLosesNothingAcknowledged: once the server answered 200 to a
// batch, the batch survives the process being killed without warning.
func TestSIGKILLLosesNothingAcknowledged(t *testing.T) {
	dir := t.TempDir()
	key := createKey(t, dir)
	p := startServer(t, nil, "--addr", "127.0.0.1:0", "--data", dir)
	c := &client{t: t, base: p.URL, auth: bearer(key)}
	id := createExperiment(c)
	for batch := 0; batch < 5; batch++ {
		postLoss(c, id, batch*1000, 1000)
	}
	p.stop(t, syscall.SIGKILL)

	p2 := startServer(t, nil, "--addr", "127.0.0.1:0", "--data", dir)
	c2 := &client{t: t, base: p2.URL, auth: bearer(key)}
	if n := countLoss(c2, id); n != 5000 {
		t.Fatalf("after SIGKILL: %d loss points, want all 5000 acknowledged", n)
	}
}

// TestEnvAndFlags: every setting comes from the environment when no flag
// gives it, and the flag wins when both do.
func TestEnvAndFlags(t *testing.T) {
	envDir, flagDir := t.TempDir(), t.TempDir()

	// Environment only: the database lands in EXPT_DATA_DIR.
	p := startServer(t, []string{"EXPT_DATA_DIR=" + envDir, "EXPT_ADDR=127.0.0.1:0"})
	if _, err := os.Stat(filepath.Join(envDir, "expt.db")); err != nil {
		t.Errorf("EXPT_DATA_DIR not used: %v", err)
	}
	p.stop(t, syscall.SIGTERM)

	// Both: the flags win. EXPT_ADDR names an address that cannot be bound,
	// so the server only starts if --addr overrides it.
	key := createKey(t, flagDir)
	p = startServer(t, []string{"EXPT_DATA_DIR=" + envDir, "EXPT_ADDR=192.0.2.1:1"}, "--data", flagDir, "--addr", "127.0.0.1:0")
	c := &client{t: t, base: p.URL, auth: bearer(key)}
	c.must(200, "GET", "/api/me", nil, nil) // the key exists only in flagDir's database

	// EXPT_MAX_BODY reaches the server: a body over it is refused with 413.
	p = startServer(t, []string{"EXPT_MAX_BODY=2000"}, "--data", flagDir, "--addr", "127.0.0.1:0")
	c = &client{t: t, base: p.URL, auth: bearer(key)}
	id := createExperiment(c)
	if code := c.do("POST", "/api/experiments/"+id+"/scalars", lossBatch(0, 200), nil); code != http.StatusRequestEntityTooLarge {
		t.Errorf("body over EXPT_MAX_BODY: %d, want 413", code)
	}
}

func TestUnreachablePostgresIsAClearError(t *testing.T) {
	// A port nothing listens on: the server must say which database it could
	// not open and exit, not hang or start half-working.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	start := time.Now()
	_, stderr, err := exptResult(nil, "serve", "--addr", "127.0.0.1:0", "--db", "postgres://u@"+addr+"/expt")
	if err == nil {
		t.Fatal("serve with an unreachable postgres URL succeeded")
	}
	if !strings.Contains(stderr, "open database postgres://u@"+addr+"/expt") || !strings.Contains(stderr, "connection refused") {
		t.Errorf("stderr = %q", stderr)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("took %v to give up", d)
	}
}

func TestDBFlagSQLiteURL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "custom.db")
	ensureUserOn(t, e2eUser, "--db", "sqlite:"+path)
	key := strings.TrimSpace(expt(t, nil, "keys", "create", "--name", "k", "--db", "sqlite:"+path))
	p := startServer(t, []string{"EXPT_DATABASE_URL=sqlite:" + path}, "--addr", "127.0.0.1:0")
	c := &client{t: t, base: p.URL, auth: bearer(key)}
	c.must(200, "GET", "/api/me", nil, nil)
}

func createExperiment(c *client) string {
	c.t.Helper()
	var created struct {
		ExperimentID string `json:"experimentId"`
	}
	c.must(200, "POST", "/api/experiments", map[string]any{"name": "durability"}, &created)
	return created.ExperimentID
}

func lossBatch(from, n int) map[string]any {
	pts := make([]map[string]any, n)
	for i := range pts {
		pts[i] = map[string]any{"step": from + i, "mode": "train", "name": "loss", "value": 1.0 / float64(from+i+1)}
	}
	return map[string]any{"scalars": pts}
}

func postLoss(c *client, id string, from, n int) {
	c.t.Helper()
	c.must(200, "POST", "/api/experiments/"+id+"/scalars", lossBatch(from, n), nil)
}

func countLoss(c *client, id string) int {
	c.t.Helper()
	var train map[string][]struct {
		Step int64 `json:"step"`
	}
	c.must(200, "GET", "/api/experiments/"+id+"/scalars?mode=train", nil, &train)
	return len(train["loss"])
}

// TestJSONLogs: with --log-format json (here from EXPT_LOG_FORMAT) every log
// line is a JSON object, and the listening line is still printed as is.
func TestJSONLogs(t *testing.T) {
	p := startServer(t, []string{"EXPT_LOG_FORMAT=json"}, "--addr", "127.0.0.1:0", "--data", t.TempDir())
	if code := p.stop(t, syscall.SIGTERM); code != 0 {
		t.Fatalf("exit code %d", code)
	}
	var sawJSON bool
	for _, line := range strings.Split(strings.TrimSpace(p.stderr.String()), "\n") {
		if listenLine.MatchString(line) {
			continue
		}
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Errorf("log line is not JSON: %q", line)
		} else if rec["msg"] != nil {
			sawJSON = true
		}
	}
	if !sawJSON {
		t.Errorf("no JSON log record in:\n%s", p.stderr.String())
	}
}

// EXPT_RATE_LIMIT reaches the server: a credential's writes past its burst
// (ten seconds' worth) are refused with 429 and Retry-After, reads are not.
func TestRateLimitFromEnv(t *testing.T) {
	dir := t.TempDir()
	ensureUser(t, dir, e2eUser)
	key := strings.TrimSpace(expt(t, nil, "keys", "create", "--name", "k", "--data", dir))
	p := startServer(t, []string{"EXPT_RATE_LIMIT=1"}, "--data", dir, "--addr", "127.0.0.1:0")
	c := &client{t: t, base: p.URL, auth: bearer(key)}
	id := createExperiment(c)
	limited := 0
	for i := range 30 {
		switch code := c.do("POST", "/api/experiments/"+id+"/scalars", lossBatch(i, 1), nil); code {
		case http.StatusOK:
		case http.StatusTooManyRequests:
			limited++
		default:
			t.Fatalf("write %d: %d", i, code)
		}
	}
	// 1 write/s with a burst of 10: of 31 writes in well under a second, about 20 are refused.
	if limited < 15 {
		t.Errorf("%d of 30 writes limited, want most past the burst of 10", limited)
	}
	c.must(200, "GET", "/api/experiments/"+id+"/metrics", nil, nil)
}
