package http

import (
	"math"
	"net/url"
	"strings"
	"testing"

	"github.com/expt-logger/expt"
)

func TestParseRewardFilter(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want expt.RewardFilter
	}{
		{"correctness<0.5", expt.RewardFilter{Name: "correctness", Op: "<", Value: 0.5}},
		{"correctness<=0.5", expt.RewardFilter{Name: "correctness", Op: "<=", Value: 0.5}},
		{"len>=10", expt.RewardFilter{Name: "len", Op: ">=", Value: 10}},
		{"len>-1e3", expt.RewardFilter{Name: "len", Op: ">", Value: -1000}},
		{"ok=1", expt.RewardFilter{Name: "ok", Op: "=", Value: 1}},
		{"ok!=0", expt.RewardFilter{Name: "ok", Op: "!=", Value: 0}},
		{" format / strict = Infinity", expt.RewardFilter{Name: "format / strict", Op: "=", Value: math.Inf(1)}},
	} {
		got, err := parseRewardFilter(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("parseRewardFilter(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "correctness", "<0.5", "correctness<", "correctness<abc", "c=<1", "c!1", "c==1"} {
		if _, err := parseRewardFilter(bad); err == nil || !strings.Contains(err.Error(), "reward:") {
			t.Errorf("parseRewardFilter(%q) = %v, want an error naming reward", bad, err)
		}
	}
}

func TestParseRolloutQuery(t *testing.T) {
	q, err := parseRolloutQuery(url.Values{
		"mode": {"eval"}, "step": {"7"}, "from": {"1"}, "to": {"9"}, "prompt": {""},
		"reward": {"correctness<0.5", "len>=3"}, "q": {" tool call "}, "sort": {"reward:correctness"},
		"order": {"desc"}, "offset": {"20"}, "limit": {"10"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if q.Mode != "eval" || *q.Step != 7 || *q.FromStep != 1 || *q.ToStep != 9 || q.Prompt == nil || *q.Prompt != "" ||
		len(q.Rewards) != 2 || q.Rewards[1].Name != "len" || q.Search != "tool call" || q.Sort != "reward:correctness" ||
		!q.Desc || q.Offset != 20 || q.Limit != 10 {
		t.Errorf("query = %+v", q)
	}
	def, err := parseRolloutQuery(url.Values{})
	if err != nil || def.Step != nil || def.Prompt != nil || def.Limit != 50 || def.Desc || def.Sort != "" {
		t.Errorf("defaults = %+v, %v", def, err)
	}
	for _, tc := range []struct {
		param, value string
	}{
		{"step", "-1"}, {"step", "x"}, {"step", "1.5"}, {"step", "9007199254740993"},
		{"from", "a"}, {"to", "-2"}, {"reward", "bad"}, {"sort", "reward:"}, {"sort", "random"},
		{"order", "up"}, {"offset", "-1"}, {"limit", "0"}, {"limit", "1001"}, {"limit", "ten"},
	} {
		_, err := parseRolloutQuery(url.Values{tc.param: {tc.value}})
		if err == nil || expt.ErrorCode(err) != expt.EINVALID || !strings.HasPrefix(expt.ErrorMessage(err), tc.param+":") {
			t.Errorf("%s=%s: %v, want a 400 naming %s", tc.param, tc.value, err, tc.param)
		}
	}
	if _, err := parseRolloutQuery(url.Values{"from": {"5"}, "to": {"4"}}); err == nil {
		t.Error("from > to accepted")
	}
}

func TestParseExperimentFilter(t *testing.T) {
	f, err := parseExperimentFilter(url.Values{"q": {"grpo"}, "status": {"complete"}, "sort": {"name"}, "offset": {"5"}, "limit": {"7"}})
	if err != nil || f.Query != "grpo" || f.Status != "complete" || f.Sort != "name" || f.Desc || f.Offset != 5 || f.Limit != 7 {
		t.Errorf("filter = %+v, %v", f, err)
	}
	if f, _ := parseExperimentFilter(url.Values{}); !f.Desc || f.Limit != 50 {
		t.Errorf("default filter = %+v, want newest first, 50", f)
	}
	for _, tc := range [][2]string{{"status", "running"}, {"sort", "size"}, {"order", "x"}, {"limit", "-3"}, {"offset", "z"}} {
		_, err := parseExperimentFilter(url.Values{tc[0]: {tc[1]}})
		if err == nil || !strings.HasPrefix(expt.ErrorMessage(err), tc[0]+":") {
			t.Errorf("%s=%s: %v", tc[0], tc[1], err)
		}
	}
}

func TestParseSeriesQuery(t *testing.T) {
	q, err := parseSeriesQuery(url.Values{"mode": {"train"}, "name": {"loss"}, "maxPoints": {"500"}, "from": {"10"}})
	if err != nil || q.Mode != "train" || q.Name != "loss" || q.MaxPoints != 500 || *q.FromStep != 10 || q.ToStep != nil {
		t.Errorf("series query = %+v, %v", q, err)
	}
	for _, v := range []url.Values{
		{"name": {"loss"}},
		{"mode": {"train"}},
		{"mode": {"train"}, "name": {"loss"}, "maxPoints": {"-1"}},
	} {
		if _, err := parseSeriesQuery(v); expt.ErrorCode(err) != expt.EINVALID {
			t.Errorf("%v: %v, want 400", v, err)
		}
	}
}

func TestParseSummaryQuery(t *testing.T) {
	q, page, err := parseSummaryQuery(url.Values{"mode": {"train"}, "page": {"3"}, "limit": {"10"}})
	if err != nil || page != 3 || q.Offset != 20 || q.Limit != 10 || q.Mode != "train" {
		t.Errorf("summary = %+v page %d, %v", q, page, err)
	}
	if _, _, err := parseSummaryQuery(url.Values{"page": {"0"}}); err == nil {
		t.Error("page=0 accepted")
	}
}
