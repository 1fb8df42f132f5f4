package http

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/api"
)

// Query parsing for the read endpoints. Every error names the parameter.

const (
	maxPageLimit     = 1000
	defaultMaxPoints = 2000
	maxMaxPoints     = 100_000
)

// intParam reads an optional integer parameter within [lo, hi].
func intParam(q url.Values, name string, def, lo, hi int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < lo || v > hi {
		return 0, invalid("%s: must be an integer from %d to %d", name, lo, hi)
	}
	return v, nil
}

// stepParam reads an optional step (0..2^53); nil when absent.
func stepParam(q url.Values, name string) (*int64, error) {
	s := q.Get(name)
	if s == "" {
		return nil, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > expt.MaxStep {
		return nil, invalid("%s: must be an integer step from 0 to 2^53", name)
	}
	return &v, nil
}

// orderParam reads order=asc|desc; def is used when absent.
func orderParam(q url.Values, def bool) (desc bool, err error) {
	switch q.Get("order") {
	case "":
		return def, nil
	case "asc":
		return false, nil
	case "desc":
		return true, nil
	}
	return false, invalid(`order: must be "asc" or "desc"`)
}

// pageParams reads offset (default 0) and limit (1..1000, default 50), the
// paging of every list endpoint.
func pageParams(q url.Values) (offset, limit int, err error) {
	if offset, err = intParam(q, "offset", 0, 0, math.MaxInt32); err != nil {
		return 0, 0, err
	}
	if limit, err = intParam(q, "limit", 50, 1, maxPageLimit); err != nil {
		return 0, 0, err
	}
	return offset, limit, nil
}

func stepRange(q url.Values) (from, to *int64, err error) {
	if from, err = stepParam(q, "from"); err != nil {
		return nil, nil, err
	}
	if to, err = stepParam(q, "to"); err != nil {
		return nil, nil, err
	}
	if from != nil && to != nil && *from > *to {
		return nil, nil, invalid("from: must not be greater than to")
	}
	return from, to, nil
}

func parseExperimentFilter(q url.Values) (expt.ExperimentFilter, error) {
	f, err := parseExperimentConditions(q, "q")
	if err != nil {
		return f, err
	}
	f.Sort = q.Get("sort")
	switch f.Sort {
	case "", expt.SortCreated, expt.SortUpdated, expt.SortName, expt.SortLatestStep:
	default:
		return f, invalid("sort: must be one of created, updated, name, latestStep")
	}
	// Newest first unless the caller says otherwise, except by name.
	if f.Desc, err = orderParam(q, f.Sort != expt.SortName); err != nil {
		return f, err
	}
	if f.Offset, f.Limit, err = pageParams(q); err != nil {
		return f, err
	}
	if c := q.Get("after"); c != "" {
		if f.After, err = decodeExperimentCursor(c); err != nil {
			return f, err
		}
	}
	return f, nil
}

// parseExperimentConditions reads which experiments a list keeps: a name
// substring (in the parameter nameParam), status, tag and config
// conditions.
func parseExperimentConditions(q url.Values, nameParam string) (expt.ExperimentFilter, error) {
	f := expt.ExperimentFilter{Query: q.Get(nameParam), Status: q.Get("status"), Tag: q.Get("tag")}
	if f.Status != "" && !expt.ValidStatus(f.Status) {
		return f, invalid(`status: must be "active", "complete", "failed" or "crashed"`)
	}
	for _, c := range q["config"] {
		m, err := parseConfigMatch(c)
		if err != nil {
			return f, err
		}
		f.Config = append(f.Config, m)
	}
	if len(f.Config) > expt.MaxConfigMatches {
		return f, invalid("config: at most %d conditions", expt.MaxConfigMatches)
	}
	return f, nil
}

// experimentCursor is where a page of experiments ended: the fields any
// sort may order by, and the id that breaks ties.
type experimentCursor struct {
	Created int64  `json:"c"`
	Updated int64  `json:"u"`
	Name    string `json:"n"`
	Step    *int64 `json:"s,omitempty"`
	ID      string `json:"i"`
}

// encodeExperimentCursor is the opaque "next" of a page that ended at e.
func encodeExperimentCursor(e *expt.Experiment) string {
	b, _ := json.Marshal(experimentCursor{e.CreatedAt.UnixNano(), e.UpdatedAt.UnixNano(), e.Name, e.LatestStep, e.ID})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeExperimentCursor(s string) (*expt.Experiment, error) {
	bad := invalid("after: not a cursor from a page's next")
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) > 4096 {
		return nil, bad
	}
	var c experimentCursor
	if err := json.Unmarshal(b, &c); err != nil || c.ID == "" || !utf8.ValidString(c.Name) {
		return nil, bad
	}
	return &expt.Experiment{ID: c.ID, Name: c.Name, LatestStep: c.Step,
		CreatedAt: time.Unix(0, c.Created).UTC(), UpdatedAt: time.Unix(0, c.Updated).UTC()}, nil
}

func parseSeriesQuery(q url.Values) (expt.SeriesQuery, error) {
	sq := expt.SeriesQuery{Mode: q.Get("mode"), Name: q.Get("name")}
	if sq.Mode == "" {
		return sq, invalid("mode: is required")
	}
	if sq.Name == "" {
		return sq, invalid("name: is required")
	}
	var err error
	if sq.MaxPoints, err = intParam(q, "maxPoints", defaultMaxPoints, 0, maxMaxPoints); err != nil {
		return sq, err
	}
	if sq.FromStep, sq.ToStep, err = stepRange(q); err != nil {
		return sq, err
	}
	return sq, nil
}

// rewardOps lists the comparison operators, two-character ones first so
// that "<=" is not read as "<" followed by "=0.5".
var rewardOps = []string{"<=", ">=", "!=", "<", ">", "="}

// parseRewardFilter reads name<op>value, such as correctness<0.5. The value
// may be NaN, Infinity or -Infinity.
func parseRewardFilter(s string) (expt.RewardFilter, error) {
	bad := func() (expt.RewardFilter, error) {
		return expt.RewardFilter{}, invalid("reward: %q must look like name<op>value with op one of < <= > >= = !=, such as correctness<0.5", s)
	}
	for i := 0; i < len(s); i++ {
		if !strings.ContainsRune("<>=!", rune(s[i])) {
			continue
		}
		for _, op := range rewardOps {
			if !strings.HasPrefix(s[i:], op) {
				continue
			}
			name := strings.TrimSpace(s[:i])
			val := strings.TrimSpace(s[i+len(op):])
			if name == "" || val == "" {
				return bad()
			}
			f, ok := api.NonFinite(val)
			if !ok {
				var err error
				if f, err = strconv.ParseFloat(val, 64); err != nil {
					return bad()
				}
			}
			return expt.RewardFilter{Name: name, Op: op, Value: f}, nil
		}
		return bad()
	}
	return bad()
}

func parseRolloutQuery(q url.Values) (expt.RolloutQuery, error) {
	rq := expt.RolloutQuery{Mode: q.Get("mode"), Search: strings.TrimSpace(q.Get("q"))}
	var err error
	if rq.Step, err = stepParam(q, "step"); err != nil {
		return rq, err
	}
	if rq.FromStep, rq.ToStep, err = stepRange(q); err != nil {
		return rq, err
	}
	if q.Has("prompt") {
		p := q.Get("prompt")
		rq.Prompt = &p
	}
	if s := q.Get("after"); s != "" {
		if rq.AfterID, err = strconv.ParseInt(s, 10, 64); err != nil || rq.AfterID < 0 {
			return rq, invalid("after: must be a rollout id (the last id of the page before)")
		}
	}
	if q.Has("group") {
		g := q.Get("group")
		rq.Group = &g
	}
	for _, s := range q["reward"] {
		f, err := parseRewardFilter(s)
		if err != nil {
			return rq, err
		}
		rq.Rewards = append(rq.Rewards, f)
	}
	switch sort := q.Get("sort"); {
	case sort == "", sort == expt.SortID, sort == expt.SortStep:
		rq.Sort = sort
	case strings.HasPrefix(sort, expt.SortReward) && len(sort) > len(expt.SortReward):
		rq.Sort = sort
	default:
		return rq, invalid("sort: must be id, step or reward:<name>")
	}
	if rq.Desc, err = orderParam(q, false); err != nil {
		return rq, err
	}
	if rq.Offset, rq.Limit, err = pageParams(q); err != nil {
		return rq, err
	}
	return rq, nil
}

// viewParams reads view=full|preview and, for previews, reasoningTags.
func viewParams(q url.Values) (preview bool, tags []string, err error) {
	switch q.Get("view") {
	case "", "full":
		return false, nil, nil
	case "preview":
	default:
		return false, nil, invalid("view: must be full or preview")
	}
	raw := q.Get("reasoningTags")
	if raw == "" {
		return true, expt.DefaultReasoningTags, nil
	}
	for _, t := range strings.Split(raw, ",") {
		if !reasoningTag.MatchString(t) {
			return false, nil, invalid("reasoningTags: a comma-separated list of tag names (a letter, then letters, digits, _ or -)")
		}
		tags = append(tags, strings.ToLower(t))
	}
	if len(tags) > 20 {
		return false, nil, invalid("reasoningTags: at most 20")
	}
	return true, tags, nil
}

var reasoningTag = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]*$`)

func parseGroupQuery(q url.Values) (expt.GroupQuery, error) {
	gq := expt.GroupQuery{Mode: q.Get("mode"), Search: strings.TrimSpace(q.Get("q"))}
	var err error
	if gq.Step, err = stepParam(q, "step"); err != nil {
		return gq, err
	}
	if gq.FromStep, gq.ToStep, err = stepRange(q); err != nil {
		return gq, err
	}
	if gq.Offset, gq.Limit, err = pageParams(q); err != nil {
		return gq, err
	}
	return gq, nil
}

// parseSummaryQuery reads the original platform's page (1-based) and limit.
func parseSummaryQuery(q url.Values) (gq expt.GroupQuery, page int, err error) {
	gq.Mode = q.Get("mode")
	if page, err = intParam(q, "page", 1, 1, math.MaxInt32); err != nil {
		return gq, 0, err
	}
	if gq.Limit, err = intParam(q, "limit", 50, 1, maxPageLimit); err != nil {
		return gq, 0, err
	}
	gq.Offset = (page - 1) * gq.Limit
	return gq, page, nil
}

// parseConfigMatch reads config=PATH=VALUE, such as config=optim.lr=3e-6:
// the path is dotted keys, the value JSON (3e-6, true, null, "a") or, when
// it is not JSON, a string (config=optimizer=adamw).
func parseConfigMatch(s string) (expt.ConfigMatch, error) {
	path, value, ok := strings.Cut(s, "=")
	path = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(path), "config."))
	if !ok || path == "" {
		return expt.ConfigMatch{}, invalid("config: want KEY=VALUE, such as config=lr=3e-6, got %q", s)
	}
	value = strings.TrimSpace(value)
	raw := json.RawMessage(value)
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		raw, _ = json.Marshal(value)
	} else {
		switch v.(type) {
		case []any, map[string]any:
			return expt.ConfigMatch{}, invalid("config: compare %s with a number, a string, true, false or null", path)
		}
	}
	keys := strings.Split(path, ".")
	for _, k := range keys {
		if k == "" {
			return expt.ConfigMatch{}, invalid("config: %q has an empty key", path)
		}
	}
	return expt.ConfigMatch{Path: keys, Value: raw}, nil
}

// parseMetricColumns reads metric=MODE/NAME (train/loss), the run table's
// metric columns.
func parseMetricColumns(q url.Values) ([]expt.MetricKey, error) {
	var out []expt.MetricKey
	for _, m := range q["metric"] {
		mode, name, ok := strings.Cut(m, "/")
		if !ok || mode == "" || name == "" {
			return nil, invalid("metric: want MODE/NAME, such as train/loss, got %q", m)
		}
		out = append(out, expt.MetricKey{Mode: mode, Name: name})
	}
	if len(out) > expt.MaxMetricColumns {
		return nil, invalid("metric: at most %d columns", expt.MaxMetricColumns)
	}
	return out, nil
}
