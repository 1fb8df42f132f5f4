package http

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/api"
)

func gzipped(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestReadBody(t *testing.T) {
	s := &Server{maxBody: 100, bodies: newBodyBudget(1<<20, 2), bodyTimeout: time.Second}
	read := func(body []byte, encoding string) ([]byte, error) {
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		if encoding != "" {
			r.Header.Set("Content-Encoding", encoding)
		}
		return s.readBody(httptest.NewRecorder(), r)
	}
	if got, err := read([]byte(`{"a":1}`), ""); err != nil || string(got) != `{"a":1}` {
		t.Errorf("plain: %q, %v", got, err)
	}
	if got, err := read(gzipped(t, []byte(`{"a":"é"}`)), "gzip"); err != nil || string(got) != `{"a":"é"}` {
		t.Errorf("gzip: %q, %v", got, err)
	}
	for _, tc := range []struct {
		name, encoding string
		body           []byte
		code, want     string
	}{
		{"too large", "", bytes.Repeat([]byte("a"), 101), expt.ETOOLARGE, "request body exceeds the 100-byte limit"},
		// 101 bytes decompressed from far fewer on the wire: the limit is on what we decompress.
		{"gzip too large", "gzip", gzipped(t, bytes.Repeat([]byte(" "), 101)), expt.ETOOLARGE, "exceeds the 100-byte limit"},
		{"not gzip", "gzip", []byte("plain"), expt.EINVALID, "not valid gzip"},
		{"truncated gzip", "gzip", gzipped(t, []byte(`{"a":1}`))[:15], expt.EINVALID, "not valid gzip"},
		{"br", "br", []byte("{}"), expt.EINVALID, `Content-Encoding "br" is not supported`},
		{"bad utf-8", "", []byte("{\"a\":\"\xff\"}"), expt.EINVALID, "not valid UTF-8"},
	} {
		_, err := read(tc.body, tc.encoding)
		if expt.ErrorCode(err) != tc.code || !strings.Contains(expt.ErrorMessage(err), tc.want) {
			t.Errorf("%s: %v, want %s %q", tc.name, err, tc.code, tc.want)
		}
	}
	if got := statusOf(expt.ETOOLARGE); got != http.StatusRequestEntityTooLarge {
		t.Errorf("too large maps to %d", got)
	}
}

func TestIdempotencyKey(t *testing.T) {
	for _, tc := range []struct {
		vals []string
		want string
		ok   bool
	}{
		{nil, "", true},
		{[]string{"batch-0001"}, "batch-0001", true},
		{[]string{strings.Repeat("k", 200)}, strings.Repeat("k", 200), true},
		{[]string{"a b~!"}, "a b~!", true},
		{[]string{""}, "", false},
		{[]string{strings.Repeat("k", 201)}, "", false},
		{[]string{"tab\there"}, "", false},
		{[]string{"ключ"}, "", false},
		{[]string{"a", "b"}, "", false},
	} {
		r := httptest.NewRequest("POST", "/", nil)
		for _, v := range tc.vals {
			r.Header.Add("Idempotency-Key", v)
		}
		got, err := idempotencyKey(r)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%q: %q, %v", tc.vals, got, err)
		}
		if err != nil && expt.ErrorCode(err) != expt.EINVALID {
			t.Errorf("%q: code %s", tc.vals, expt.ErrorCode(err))
		}
	}
}

func TestNumJSON(t *testing.T) {
	for _, tc := range []struct {
		v    float64
		want string
	}{
		{1.5, "1.5"}, {0, "0"}, {-2, "-2"}, {1e21, "1e+21"}, {1e-7, "1e-7"}, {123456789, "123456789"},
		{math.NaN(), `"NaN"`}, {math.Inf(1), `"Infinity"`}, {math.Inf(-1), `"-Infinity"`},
	} {
		got, _ := json.Marshal(api.Num(tc.v))
		if string(got) != tc.want {
			t.Errorf("num(%v) = %s, want %s", tc.v, got, tc.want)
		}
		if !math.IsNaN(tc.v) && !math.IsInf(tc.v, 0) {
			std, _ := json.Marshal(tc.v)
			if string(std) != string(got) {
				t.Errorf("num(%v) = %s, encoding/json says %s", tc.v, got, std)
			}
		}
		var back api.Num
		if err := json.Unmarshal(got, &back); err != nil || math.Float64bits(float64(back)) != math.Float64bits(tc.v) && !math.IsNaN(tc.v) {
			t.Errorf("round trip of %v: %v, %v", tc.v, back, err)
		}
	}
}

// TestReadLimitedChunks reads bodies around the chunk sizes and the limit,
// and checks what the budget was charged.
func TestReadLimitedChunks(t *testing.T) {
	for _, n := range []int{0, 1, bodyChunk - 1, bodyChunk, bodyChunk + 1, 3 * bodyChunk, maxChunk + 5, 3 << 20} {
		body := bytes.Repeat([]byte("x"), n)
		budget := newBodyBudget(64<<20, 1)
		acct := &bodyAccount{budget: budget, limit: 3 << 20}
		got, err := readLimited(iotest.OneByteReader(bytes.NewReader(body)), acct.limit, acct)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%d bytes: got %d, %v", n, len(got), err)
		}
		if acct.reserved < int64(n) || acct.reserved > 3*int64(n)+2*bodyChunk {
			t.Errorf("%d bytes: charged %d", n, acct.reserved)
		}
		if budget.used.Load() != acct.reserved {
			t.Errorf("budget used %d, account %d", budget.used.Load(), acct.reserved)
		}
	}
	acct := &bodyAccount{budget: newBodyBudget(64<<20, 1), limit: 100_000}
	if _, err := readLimited(bytes.NewReader(make([]byte, 100_001)), acct.limit, acct); err != errTooLarge {
		t.Errorf("one byte over: %v", err)
	}
	if acct.reserved > 100_001 {
		t.Errorf("a refused body held %d bytes, more than the limit", acct.reserved)
	}
	small := &bodyAccount{budget: newBodyBudget(bodyChunk, 1), limit: 1 << 20}
	if _, err := readLimited(bytes.NewReader(make([]byte, 2*bodyChunk)), small.limit, small); expt.ErrorCode(err) != expt.EUNAVAILABLE {
		t.Errorf("past the server's budget: %v, want unavailable", err)
	}
}
