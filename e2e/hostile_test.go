package e2e

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/expt-logger/expt/postgres/pgtest"
)

// target is a fresh `expt serve` on one store with a key, for the tests
// that try the server as an attacker would.
type target struct {
	p   *proc
	key string
	c   *client
	db  string // the --db URL
}

// eachStore runs f against a fresh server on SQLite and, when a PostgreSQL
// server is at hand (CI always), on PostgreSQL.
func eachStore(t *testing.T, f func(t *testing.T, tg *target), args ...string) {
	t.Run("sqlite", func(t *testing.T) {
		f(t, startTarget(t, "sqlite:"+t.TempDir()+"/expt.db", args...))
	})
	t.Run("postgres", func(t *testing.T) {
		f(t, startTarget(t, pgtest.URL(t), args...))
	})
}

func startTarget(t *testing.T, db string, args ...string) *target {
	t.Helper()
	ensureUserOn(t, e2eUser, "--db", db)
	key := strings.TrimSpace(expt(t, nil, "keys", "create", "--name", "e2e", "--db", db))
	p := startServer(t, nil, append([]string{"--db", db}, args...)...)
	return &target{p: p, key: key, db: db, c: &client{t: t, base: p.URL, auth: bearer(key)}}
}

// rss is the server process's resident memory in bytes.
func (p *proc) rss(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		t.Fatalf("read server memory: %v", err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc status")
	return 0
}

// peakRSS samples the server's memory every 50 ms until stop is closed and
// returns the highest value seen.
func (p *proc) peakRSS(t *testing.T, stop <-chan struct{}) <-chan int64 {
	out := make(chan int64, 1)
	go func() {
		peak := int64(0)
		for {
			b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
			if err == nil {
				for _, line := range strings.Split(string(b), "\n") {
					if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
						kb, _ := strconv.ParseInt(f[1], 10, 64)
						peak = max(peak, kb<<10)
					}
				}
			}
			select {
			case <-stop:
				out <- peak
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	}()
	return out
}

// rawRequest opens a connection and sends the head of a request and the
// first bytes of its body, leaving the rest unsent.
func rawRequest(t *testing.T, base, head string, body string) net.Conn {
	t.Helper()
	host := strings.TrimPrefix(base, "http://")
	conn, err := net.DialTimeout("tcp", host, 10*time.Second)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	if _, err := conn.Write([]byte(head + "\r\n" + body)); err != nil {
		t.Fatalf("write: %v", err)
	}
	return conn
}

// TestSlowBodiesAreCutAndHoldLittleMemory: 1,000 connections each announce
// a 32 MiB scalar batch and send 11 bytes of it. The server must not size
// buffers from the announced length (that pinned 32 GB), and must close
// every one of them within 30 s (the deadline is set to 5 s here).
func TestSlowBodiesAreCutAndHoldLittleMemory(t *testing.T) {
	eachStore(t, func(t *testing.T, tg *target) {
		id := createExperiment(tg.c)
		base := tg.p.rss(t)
		stop := make(chan struct{})
		peak := tg.p.peakRSS(t, stop)
		const n = 1000
		head := fmt.Sprintf("POST /api/experiments/%s/scalars HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
			"Content-Type: application/json\r\nContent-Length: %d\r\n", id, tg.key, 32<<20)
		start := time.Now()
		conns := make([]net.Conn, n)
		for i := range conns {
			conns[i] = rawRequest(t, tg.p.URL, head, `{"scalars":`)
		}
		var wg sync.WaitGroup
		statuses := make(chan string, n)
		for _, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetReadDeadline(time.Now().Add(40 * time.Second))
				line, err := bufio.NewReader(c).ReadString('\n')
				if err != nil {
					statuses <- "closed: " + err.Error()
					return
				}
				statuses <- strings.TrimSpace(line)
			}()
		}
		wg.Wait()
		took := time.Since(start)
		close(stop)
		close(statuses)
		grew := <-peak - base
		counts := map[string]int{}
		for s := range statuses {
			counts[s]++
		}
		if counts["HTTP/1.1 408 Request Timeout"] != n {
			t.Errorf("answers: %v, want %d × 408", counts, n)
		}
		if took > 30*time.Second {
			t.Errorf("the slow bodies were cut after %v, want within 30 s", took)
		}
		if grew > 200<<20 {
			t.Errorf("server memory grew by %d MB holding %d slow bodies, want under 200 MB", grew>>20, n)
		}
		t.Logf("%d slow bodies: all answered within %v; memory grew %d MB", n, took.Round(time.Second), grew>>20)
		// Still serving.
		tg.c.must(http.StatusOK, "GET", "/api/experiments/"+id, nil, nil)
	}, "--body-timeout", "5s")
}

// TestSignInBodyLimit: the public routes take small bodies only, answered
// before any of a large one is read.
func TestSignInBodyLimit(t *testing.T) {
	eachStore(t, func(t *testing.T, tg *target) {
		conn := rawRequest(t, tg.p.URL, "POST /api/auth/sign-in/email HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"+
			fmt.Sprintf("Content-Length: %d\r\n", 32<<20), `{"email":`)
		defer conn.Close()
		conn.SetReadDeadline(time.Now().Add(5 * time.Second))
		line, err := bufio.NewReader(conn).ReadString('\n')
		if err != nil || !strings.Contains(line, " 413 ") {
			t.Fatalf("32 MiB sign-in: %q, %v; want 413 at once", line, err)
		}
	})
}

// gzipBomb is a gzip body of n bytes that inflates to about 1,000 times as much.
func gzipBomb(t *testing.T, n int) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	zeros := make([]byte, 1<<20)
	for buf.Len() < n {
		if _, err := zw.Write(zeros); err != nil {
			t.Fatal(err)
		}
	}
	zw.Close()
	return buf.Bytes()
}

// TestGzipBombsShareABudget: 32 clients each post a gzip body that
// inflates past the 32 MiB limit, all at once. Each is refused (413 when
// its turn came, 503 with Retry-After when too many were being inflated),
// and together they do not take the server's memory up by more than 200 MB
// (it peaked at 2.6 GB before the budget).
func TestGzipBombsShareABudget(t *testing.T) {
	eachStore(t, func(t *testing.T, tg *target) {
		id := createExperiment(tg.c)
		bomb := gzipBomb(t, 200<<10) // inflates to about 200 MB
		base := tg.p.rss(t)
		stop := make(chan struct{})
		peak := tg.p.peakRSS(t, stop)
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[int]int{}
		for range 32 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", tg.p.URL+"/api/experiments/"+id+"/scalars", bytes.NewReader(bomb))
				req.Header.Set("Authorization", "Bearer "+tg.key)
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Content-Encoding", "gzip")
				resp, err := httpClient.Do(req)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					counts[-1]++
					return
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
					t.Errorf("503 without Retry-After")
				}
				counts[resp.StatusCode]++
			}()
		}
		wg.Wait()
		close(stop)
		grew := <-peak - base
		if counts[413]+counts[503] != 32 || counts[413] == 0 {
			t.Errorf("answers %v, want 32 of 413 or 503, some 413", counts)
		}
		if grew > 200<<20 {
			t.Errorf("memory grew by %d MB for 32 gzip bombs, want under 200 MB", grew>>20)
		}
		t.Logf("32 gzip bombs: %v; memory grew %d MB", counts, grew>>20)
	})
}

// TestSignInFloodLeavesWritesAlone: 64 sign-ins at once (a bcrypt each, no
// credentials needed) get a few password-hashing slots between them; the
// rest are answered 503 with Retry-After instead of queueing on every core,
// and the writes of a signed-in client that run meanwhile all succeed.
func TestSignInFloodLeavesWritesAlone(t *testing.T) {
	eachStore(t, func(t *testing.T, tg *target) {
		id := createExperiment(tg.c)
		stop := make(chan struct{})
		writes := make(chan time.Duration, 10000)
		go func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					close(writes)
					return
				default:
				}
				start := time.Now()
				tg.c.must(http.StatusOK, "POST", "/api/experiments/"+id+"/scalars", lossBatch(i, 1), nil)
				writes <- time.Since(start)
			}
		}()
		var wg sync.WaitGroup
		var mu sync.Mutex
		counts := map[int]int{}
		for i := range 64 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				body := fmt.Sprintf(`{"email":"nobody%d@example.com","password":"not-the-password"}`, i)
				req, _ := http.NewRequest("POST", tg.p.URL+"/api/auth/sign-in/email", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				resp, err := httpClient.Do(req)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					t.Errorf("sign-in: %v", err)
					return
				}
				resp.Body.Close()
				counts[resp.StatusCode]++
				if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
					t.Errorf("503 without Retry-After")
				}
			}()
		}
		wg.Wait()
		close(stop)
		var ds []time.Duration
		for d := range writes {
			ds = append(ds, d)
		}
		if counts[401]+counts[503] != 64 || counts[503] == 0 || counts[401] == 0 {
			t.Errorf("sign-ins answered %v, want some 401 and the rest 503", counts)
		}
		slices.Sort(ds)
		if len(ds) > 0 {
			t.Logf("64 sign-ins: %v; %d writes meanwhile, median %v, max %v", counts, len(ds), ds[len(ds)/2], ds[len(ds)-1])
		}
	})
}

// post sends body with an Idempotency-Key and returns the status and answer.
func (tg *target) postIdem(t *testing.T, path, key string, body any) (int, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", tg.p.URL+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tg.key)
	req.Header.Set("Idempotency-Key", key)
	resp, err := httpClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestIdempotencyKeyIsScopedAndBoundToItsBody: the same key with the same
// body is a replay; with another body a 422 that says so, storing nothing;
// on another endpoint of the same experiment, a different key.
func TestIdempotencyKeyIsScopedAndBoundToItsBody(t *testing.T) {
	eachStore(t, func(t *testing.T, tg *target) {
		id := createExperiment(tg.c)
		scalars, rollouts := "/api/experiments/"+id+"/scalars", "/api/experiments/"+id+"/rollouts"
		if st, out := tg.postIdem(t, scalars, "k-1", lossBatch(0, 5)); st != 200 || out["replayed"] != false {
			t.Fatalf("first: %d %v", st, out)
		}
		if st, out := tg.postIdem(t, scalars, "k-1", lossBatch(0, 5)); st != 200 || out["replayed"] != true {
			t.Fatalf("replay: %d %v", st, out)
		}
		st, out := tg.postIdem(t, scalars, "k-1", lossBatch(100, 5))
		if st != http.StatusUnprocessableEntity || !strings.Contains(fmt.Sprint(out["error"]), "different request body") {
			t.Fatalf("same key, other body: %d %v, want 422 saying so", st, out)
		}
		if n := countLoss(tg.c, id); n != 5 {
			t.Errorf("%d points stored, want the first batch's 5", n)
		}
		rollout := map[string]any{"rollouts": []map[string]any{{"step": 1, "mode": "train", "promptText": "p",
			"messages": []map[string]string{{"role": "assistant", "content": "a"}}, "rewards": map[string]float64{"r": 1}}}}
		if st, out := tg.postIdem(t, rollouts, "k-1", rollout); st != 200 || out["replayed"] != false {
			t.Fatalf("the same key on the rollouts endpoint: %d %v, want applied", st, out)
		}
	})
}

// TestEmailsAreOneNormalForm: an email with non-ASCII capitals signs up,
// then signs in however its case and its accents are written (NFC and
// Unicode lower case on both stores; on SQLite it could never sign in), and
// a second sign-up with another spelling of it is a conflict.
func TestEmailsAreOneNormalForm(t *testing.T) {
	eachStore(t, func(t *testing.T, tg *target) {
		post := func(path, email string) int {
			body := fmt.Sprintf(`{"email":%q,"password":"correct-horse-battery"}`, email)
			req, _ := http.NewRequest("POST", tg.p.URL+path, strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			return resp.StatusCode
		}
		if st := post("/api/auth/sign-up/email", "ÉLISE.Ørsted@Example.org"); st != 200 {
			t.Fatalf("sign up: %d", st)
		}
		// "e" + U+0301 (combining acute): the decomposed spelling.
		for _, e := range []string{"élise.ørsted@example.org", "e\u0301lise.Ørsted@EXAMPLE.ORG", " ÉLISE.ØRSTED@example.org "} {
			if st := post("/api/auth/sign-in/email", e); st != 200 {
				t.Errorf("sign in as %q: %d", e, st)
			}
		}
		if st := post("/api/auth/sign-up/email", "E\u0301LISE.ørsted@example.org"); st != http.StatusConflict {
			t.Errorf("second sign-up with another spelling: %d, want 409", st)
		}
	})
}

// TestSlowGzipUploadsDoNotHoldDecoders: clients that trickle gzip bodies
// (more of them than there are decoders) must not stop other gzip uploads:
// a body is read before a decoder is taken. The fault suite found this, a
// delayed network making the SDK's batches 503.
func TestSlowGzipUploadsDoNotHoldDecoders(t *testing.T) {
	eachStore(t, func(t *testing.T, tg *target) {
		id := createExperiment(tg.c)
		path := "/api/experiments/" + id + "/scalars"
		head := fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n"+
			"Content-Encoding: gzip\r\nContent-Length: 100000\r\n", path, tg.key)
		for range 16 {
			c := rawRequest(t, tg.p.URL, head, "\x1f\x8b")
			defer c.Close()
		}
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		json.NewEncoder(zw).Encode(lossBatch(0, 100))
		zw.Close()
		req, _ := http.NewRequest("POST", tg.p.URL+path, &buf)
		req.Header.Set("Authorization", "Bearer "+tg.key)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("a gzip upload beside 16 trickling ones: %d, want 200", resp.StatusCode)
		}
	})
}
