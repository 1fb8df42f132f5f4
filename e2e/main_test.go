// Package e2e drives the real expt binary: it builds cmd/expt once, starts
// `expt serve` as a subprocess on a free loopback port and talks to it over
// HTTP, as a user and the Python SDK would.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// exptBin is the binary under test, built by TestMain.
var exptBin string

// buildVersion is stamped into the binary to check that -ldflags reaches expt.Version.
const buildVersion = "e2e-test-1"

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "expt-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	exptBin = filepath.Join(dir, "expt")
	build := exec.Command("go", "build", "-o", exptBin,
		"-ldflags", "-X github.com/expt-logger/expt.Version="+buildVersion,
		"github.com/expt-logger/expt/cmd/expt")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build expt:", err)
		return 1
	}
	return m.Run()
}

// proc is a running `expt serve`.
type proc struct {
	cmd    *exec.Cmd
	URL    string
	stderr *syncBuffer
	done   chan struct{} // closed when the process has exited
	err    error         // Wait's result, valid after done
}

var listenLine = regexp.MustCompile(`expt listening on (http://\S+)`)

// startServer runs `expt serve --addr 127.0.0.1:0 args...` with extra
// environment variables, and waits for its listening line.
func startServer(t *testing.T, env []string, args ...string) *proc {
	t.Helper()
	p, err := tryStartServer(env, args...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("server stderr:\n%s", p.stderr.String())
		}
	})
	return p
}

func tryStartServer(env []string, args ...string) (*proc, error) {
	cmd := exec.Command(exptBin, append([]string{"serve"}, args...)...)
	cmd.Env = append(cleanEnv(), env...)
	pr, pw := io.Pipe()
	p := &proc{cmd: cmd, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start expt serve: %w", err)
	}
	scanned := make(chan struct{})
	go func() {
		p.err = cmd.Wait()
		pw.Close()
		// done means the whole of stderr is in p.stderr too.
		<-scanned
		close(p.done)
	}()
	urlc := make(chan string, 1)
	go func() {
		defer close(scanned)
		sc := bufio.NewScanner(pr)
		sent := false
		for sc.Scan() {
			p.stderr.WriteLine(sc.Text())
			if m := listenLine.FindStringSubmatch(sc.Text()); m != nil && !sent {
				urlc <- m[1]
				sent = true
			}
		}
		// A line too long for the scanner must not block the server's writes.
		io.Copy(io.Discard, pr)
		close(urlc)
	}()
	select {
	case u, ok := <-urlc:
		if !ok {
			<-p.done
			return nil, fmt.Errorf("expt serve exited before listening (%v):\n%s", p.err, p.stderr.String())
		}
		p.URL = u
		return p, nil
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		return nil, fmt.Errorf("expt serve did not print its listening line in 30s:\n%s", p.stderr.String())
	}
}

// stop sends sig and waits for the process to exit, returning its exit code.
func (p *proc) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal %v: %v", sig, err)
	}
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatalf("expt serve still running 30s after %v", sig)
	}
	return p.cmd.ProcessState.ExitCode()
}

// cleanEnv is the test's environment without EXPT_ variables, so that a
// developer's own settings cannot leak into the server under test.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "EXPT_") {
			env = append(env, kv)
		}
	}
	return env
}

// expt runs the binary with args and returns its stdout; it fails the test
// when the command fails.
func expt(t *testing.T, env []string, args ...string) string {
	t.Helper()
	out, errOut, err := exptResult(env, args...)
	if err != nil {
		t.Fatalf("expt %s: %v\nstderr: %s", strings.Join(args, " "), err, errOut)
	}
	return out
}

func exptResult(env []string, args ...string) (stdout, stderr string, err error) {
	return exptStdin("", env, args...)
}

// exptStdin runs the binary with stdin as its input.
func exptStdin(stdin string, env []string, args ...string) (stdout, stderr string, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exptBin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Env = append(cleanEnv(), env...)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err = cmd.Run()
	return o.String(), e.String(), err
}

// e2eUser is the account createKey makes keys for, and its password.
const (
	e2eUser     = "e2e@example.com"
	e2ePassword = "e2e password"
)

// ensureUser makes the account email on dataDir with `expt users create`,
// unless it exists.
func ensureUser(t *testing.T, dataDir, email string) {
	t.Helper()
	ensureUserOn(t, email, "--data", dataDir)
}

// ensureUserOn is ensureUser on the database the store flags name.
func ensureUserOn(t *testing.T, email string, store ...string) {
	t.Helper()
	_, errOut, err := exptStdin(e2ePassword+"\n", nil, append([]string{"users", "create", "--email", email, "--password-stdin"}, store...)...)
	if err != nil && !strings.Contains(errOut, "already has an account") {
		t.Fatalf("users create %s: %v\n%s", email, err, errOut)
	}
}

// createKey makes an API key with `expt keys create` on dataDir, for
// e2eUser (made first when missing) unless extra names an --email.
func createKey(t *testing.T, dataDir string, extra ...string) string {
	t.Helper()
	if !slices.Contains(extra, "--email") {
		ensureUser(t, dataDir, e2eUser)
		extra = append(extra, "--email", e2eUser)
	}
	out := expt(t, nil, append([]string{"keys", "create", "--name", "e2e", "--data", dataDir}, extra...)...)
	key := strings.TrimSpace(out)
	if !regexp.MustCompile(`^expt_[A-Za-z0-9_-]{43}$`).MatchString(key) {
		t.Fatalf("keys create printed %q, want the key alone", out)
	}
	return key
}

// httpClient bounds every request, so a server that hangs fails the test
// in a minute with the request named, instead of at the package timeout.
var httpClient = &http.Client{Timeout: time.Minute}

// client speaks JSON to a server with one way of presenting the key.
type client struct {
	t    *testing.T
	base string
	auth func(*http.Request)
}

func bearer(key string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+key) }
}

func xAPIKey(key string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("x-api-key", key) }
}

// do sends body (JSON-encoded unless nil) and decodes the response into out
// (when not nil); it returns the status code.
func (c *client) do(method, path string, body, out any) int {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.auth != nil {
		c.auth(req)
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: %d, decode %q: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

// must is do, failing the test unless the status is want.
func (c *client) must(want int, method, path string, body, out any) {
	c.t.Helper()
	var raw json.RawMessage
	got := c.do(method, path, body, &raw)
	if got != want {
		c.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, got, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			c.t.Fatalf("%s %s: decode %s: %v", method, path, raw, err)
		}
	}
}

// syncBuffer collects a subprocess's stderr while tests read it.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) WriteLine(line string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.WriteString(line)
	s.b.WriteByte('\n')
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
