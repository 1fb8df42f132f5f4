package http

import (
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/expt-logger/expt"
)

// Fuzz targets for each request decoder and query parser on its own: no
// panic, errors only of the client-error kinds, and what is accepted obeys
// the contract. Seeds live in testdata/fuzz/<target> as well as below; CI
// runs every target for a bounded time (make fuzz).

func clientError(t *testing.T, what string, err error) {
	t.Helper()
	if c := expt.ErrorCode(err); c != expt.EINVALID && c != expt.ETOOLARGE {
		t.Fatalf("%s: error code %q (%v), want invalid or too large", what, c, err)
	}
}

func FuzzDecodeRollouts(f *testing.F) {
	for _, s := range []string{
		`{"rollouts":[{"step":1,"mode":"train","promptText":"2+2?","messages":[{"role":"assistant","content":"4"}],"rewards":{"correct":1,"format":"NaN"}}]}`,
		`{"rollouts":[{"id":"c1","step":0,"mode":"eval","promptText":{"role":"user","content":"hi","name":"x"},"messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"a","function":{"name":"f","arguments":"{}"}}]}],"rewards":[{"name":"r","value":-1e300}],"ts":1.5}]}`,
		`{"rollouts":[null]}`, `{"rollouts":[]}`, `{"rollouts":[{"step":1,"mode":"train","rewards":{"a":1,"a":2}}]}`,
		`{"rollouts":[{"step":9007199254740993,"mode":"train"}]}`, `{"rollouts":[{"step":1,"mode":""}]}`,
		`{"rollouts":[{"step":1,"mode":"train","messages":[{"content":"no role"}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !utf8Valid(body) {
			return // readBody rejects these before decoding
		}
		fast, fastOK := decodeRolloutsFast(body)
		slow, err := decodeRolloutsSlow(body)
		if err != nil {
			clientError(t, "decodeRolloutsSlow", err)
		}
		if fastOK && err != nil {
			t.Fatalf("fast path accepts %q, slow path says %v", body, err)
		}
		if fastOK && !sameRollouts(fast, slow) {
			t.Fatalf("fast and slow paths disagree on %q:\n%s\n%s", body, rolloutsText(fast), rolloutsText(slow))
		}
		if err == nil {
			if err := expt.CheckRollouts(slow); err != nil {
				clientError(t, "expt.CheckRollouts", err)
				return // refused before any store writes it
			}
		}
		for i, r := range slow {
			if r.Step < 0 || r.Step > expt.MaxStep || r.Mode == "" {
				t.Fatalf("accepted rollouts[%d] = step %d mode %q from %q", i, r.Step, r.Mode, body)
			}
			seen := map[string]bool{}
			for _, w := range r.Rewards {
				if w.Name == "" || seen[w.Name] {
					t.Fatalf("accepted rollouts[%d] with reward name %q empty or repeated, from %q", i, w.Name, body)
				}
				seen[w.Name] = true
			}
		}
	})
}

// rolloutsText prints rollouts by value (NaN as NaN, which == would not equate).
func rolloutsText(rs []*expt.Rollout) string {
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "%+v\n", *r)
	}
	return b.String()
}

func sameRollouts(a, b []*expt.Rollout) bool {
	return len(a) == len(b) && rolloutsText(a) == rolloutsText(b)
}

func FuzzParseRewardFilter(f *testing.F) {
	for _, s := range []string{"correctness<0.5", "format >= 1", "a!=NaN", "len<=-Infinity", "x=1e-3", "<1", "a<", "a<<1", "a = = 1", "名前>0x1p-2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rf, err := parseRewardFilter(s)
		if err != nil {
			clientError(t, "parseRewardFilter", err)
			return
		}
		if rf.Name == "" {
			t.Fatalf("parseRewardFilter(%q) accepted an empty name", s)
		}
		valid := false
		for _, op := range rewardOps {
			valid = valid || rf.Op == op
		}
		if !valid {
			t.Fatalf("parseRewardFilter(%q): op %q", s, rf.Op)
		}
		// What the UI sends back (name, op, formatted value) means the same filter.
		again, err := parseRewardFilter(rf.Name + rf.Op + strconv.FormatFloat(rf.Value, 'g', -1, 64))
		if err != nil || again.Name != rf.Name || again.Op != rf.Op ||
			(again.Value != rf.Value && !(math.IsNaN(again.Value) && math.IsNaN(rf.Value))) {
			t.Fatalf("parseRewardFilter(%q) = %+v, but its own form parses to %+v, %v", s, rf, again, err)
		}
	})
}

func FuzzParseQueries(f *testing.F) {
	for _, s := range []string{
		"mode=train&step=3&reward=correct%3C0.5&reward=f%3E%3D1&q=hello&sort=reward:correct&order=desc&offset=50&limit=50",
		"prompt=&from=1&to=0", "sort=reward:", "limit=1001", "step=-1", "name=loss&mode=train&maxPoints=0",
		"page=0", "status=complete&sort=latestStep&q=%25", "offset=99999999999999999999",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return // the server's mux never hands a handler a query it cannot parse
		}
		if rq, err := parseRolloutQuery(q); err != nil {
			clientError(t, "parseRolloutQuery", err)
		} else if rq.Limit < 1 || rq.Limit > maxPageLimit || rq.Offset < 0 {
			t.Fatalf("parseRolloutQuery(%q): offset %d limit %d", raw, rq.Offset, rq.Limit)
		}
		if _, err := parseGroupQuery(q); err != nil {
			clientError(t, "parseGroupQuery", err)
		}
		if _, page, err := parseSummaryQuery(q); err != nil {
			clientError(t, "parseSummaryQuery", err)
		} else if page < 1 {
			t.Fatalf("parseSummaryQuery(%q): page %d", raw, page)
		}
		if sq, err := parseSeriesQuery(q); err != nil {
			clientError(t, "parseSeriesQuery", err)
		} else if sq.MaxPoints < 0 || sq.MaxPoints > maxMaxPoints {
			t.Fatalf("parseSeriesQuery(%q): maxPoints %d", raw, sq.MaxPoints)
		}
		if _, err := parseExperimentFilter(q); err != nil {
			clientError(t, "parseExperimentFilter", err)
		}
	})
}

func FuzzDecodeRunLogs(f *testing.F) {
	for _, s := range []string{
		`{"errors":[{"message":"boom","traceback":"Traceback...","step":3}]}`,
		`{"logs":[{"stream":"stdout","text":"hello"}]}`, `{"errors":null}`, `{"logs":[{}]}`, `[]`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if !utf8Valid(body) {
			return
		}
		if _, err := checkedRunErrors(body); err != nil {
			clientError(t, "decodeRunErrors", err)
		}
		if _, err := checkedEnvLogs(body); err != nil {
			clientError(t, "decodeEnvLogs", err)
		}
	})
}
