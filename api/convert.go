package api

import (
	"encoding/json"

	"github.com/expt-logger/expt"
)

// The functions below turn domain values into their wire form. Lists come
// out as [] rather than null when empty: the contract says arrays.

// UserOf is u on the wire.
func UserOf(u *expt.User) User {
	return User{ID: u.ID, Email: u.Email, Name: u.Name, CreatedAt: u.CreatedAt, Admin: u.Admin}
}

// ProjectOf is p on the wire.
func ProjectOf(p *expt.Project) Project {
	return Project{ID: p.ID, Name: p.Name, Personal: p.PersonalOf != 0, Role: string(p.Role), CreatedAt: p.CreatedAt}
}

// MemberOf is m on the wire.
func MemberOf(m *expt.Member) Member {
	return Member{UserID: m.UserID, Email: m.Email, Name: m.Name, Role: string(m.Role), Invited: m.Invited, CreatedAt: m.CreatedAt}
}

// APIKeyOf is k on the wire; names gives the names of projects by id.
func APIKeyOf(k *expt.APIKey, names map[int64]string) APIKey {
	out := APIKey{ID: k.ID, Name: k.Name, Prefix: k.Prefix, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, Access: k.Access}
	if out.Access == "" {
		out.Access = expt.AccessFull
	}
	if k.ProjectID != 0 {
		out.Project = &ProjectRef{ID: k.ProjectID, Name: names[k.ProjectID]}
	}
	return out
}

// APIKeysOf is a key list on the wire.
func APIKeysOf(list []*expt.APIKey, names map[int64]string) APIKeys {
	return APIKeys{Keys: each(list, func(k *expt.APIKey) APIKey { return APIKeyOf(k, names) })}
}

// InfoOf is e's stored fields on the wire.
func InfoOf(e *expt.Experiment) ExperimentInfo {
	return ExperimentInfo{
		ID: e.ID, Name: e.Name, Config: e.Config, Status: e.Status, JobID: e.JobID,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt, LatestStep: e.LatestStep,
		Tags: orEmpty(e.Tags), Notes: e.Notes, Group: e.Group, ProjectID: e.ProjectID,
	}
}

// ExperimentOf is e on the wire with its page's URL.
func ExperimentOf(e *expt.Experiment, url string) Experiment {
	return Experiment{ExperimentInfo: InfoOf(e), URL: url}
}

// SummaryOf is e as the experiment list shows it.
func SummaryOf(e *expt.Experiment, url string) ExperimentSummary {
	return ExperimentSummary{ID: e.ID, Name: e.Name, Status: e.Status, JobID: e.JobID,
		CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt, LatestStep: e.LatestStep, Tags: orEmpty(e.Tags), Group: e.Group, ProjectID: e.ProjectID, URL: url}
}

// MetricsOf is a series list on the wire.
func MetricsOf(list []expt.Metric) []Metric {
	return each(list, func(m expt.Metric) Metric { return Metric(m) })
}

// SeriesOf is s as aligned columns; mode and name fill in when s has none
// (a metric without points).
func SeriesOf(s *expt.Series, mode, name string) Series {
	n := len(s.Buckets)
	out := Series{
		Mode: s.Mode, Name: s.Name, Total: s.Total, Downsampled: s.Downsampled,
		Step: make([]int64, n), Value: make([]Num, n), Min: make([]Num, n), MinStep: make([]int64, n),
		Max: make([]Num, n), MaxStep: make([]int64, n), TS: make([]Num, n),
	}
	if out.Mode == "" {
		out.Mode, out.Name = mode, name
	}
	for i, b := range s.Buckets {
		out.Step[i], out.Value[i] = b.LastStep, Num(b.Last)
		out.Min[i], out.MinStep[i] = Num(b.Min), b.MinStep
		out.Max[i], out.MaxStep[i] = Num(b.Max), b.MaxStep
		out.TS[i] = Num(b.LastTS)
	}
	return out
}

// PointsOf is the original platform's scalar GET: name to points.
func PointsOf(points map[string][]expt.Point) map[string][]Point {
	out := make(map[string][]Point, len(points))
	for name, ps := range points {
		out[name] = each(ps, func(p expt.Point) Point { return Point{Step: p.Step, Value: Num(p.Value), TS: Num(p.TS)} })
	}
	return out
}

// ScalarEventsOf is a scalar batch as a live event carries it.
func ScalarEventsOf(list []expt.Scalar) []ScalarEvent {
	return each(list, func(sc expt.Scalar) ScalarEvent {
		return ScalarEvent{Step: sc.Step, Mode: sc.Mode, Name: sc.Name, Value: Num(sc.Value), TS: Num(sc.TS)}
	})
}

// RolloutOf is ro on the wire.
func RolloutOf(ro *expt.Rollout) Rollout {
	out := Rollout{
		ID: ro.ID, ClientID: ro.ClientID, Step: ro.Step, Mode: ro.Mode, PromptText: ro.Prompt, Prompt: ro.PromptRaw,
		Messages: make([]json.RawMessage, len(ro.Messages)), Rewards: make([]Reward, len(ro.Rewards)),
		TS: Num(ro.TS), CreatedAt: ro.CreatedAt,
	}
	for i, m := range ro.Messages {
		out.Messages[i] = m.Raw
	}
	for i, rw := range ro.Rewards {
		out.Rewards[i] = Reward{rw.Name, Num(rw.Value)}
	}
	out.TokenCount, out.Metadata, out.Group = ro.TokenCount, ro.Metadata, ro.Group
	return out
}

// RolloutWithTokens is one rollout on the wire with its tokens, which
// lists and live events leave out (a message's tokens run to 200,000).
func RolloutWithTokens(ro *expt.Rollout) Rollout {
	out := RolloutOf(ro)
	for _, mt := range ro.Tokens {
		t := Tokens{Message: mt.Message, Text: mt.Text}
		for _, v := range mt.Values {
			t.Values = append(t.Values, NamedNums{v.Name, each(v.Values, func(f float64) Num { return Num(f) })})
		}
		out.Tokens = append(out.Tokens, t)
	}
	return out
}

// RolloutsOf is a rollout list on the wire.
func RolloutsOf(list []*expt.Rollout) []Rollout { return each(list, RolloutOf) }

// PreviewsOf is a rollout list on the wire as previews: no messages, each
// with what the table shows, the reasoning read from tags.
func PreviewsOf(list []*expt.Rollout, tags []string) []Rollout {
	return each(list, func(ro *expt.Rollout) Rollout {
		p := expt.RolloutPreview(ro, tags)
		out := RolloutOf(ro)
		out.Messages = []json.RawMessage{}
		out.Preview = &Preview{Answer: p.Answer, Boxed: p.Boxed, Chars: p.Chars, Messages: p.Messages}
		return out
	})
}

// StatsOf is reward summaries on the wire (a mean over an Inf reward is
// Inf, which a plain float64 could not carry).
func StatsOf(list []expt.RewardStats) []RewardStats {
	return each(list, func(st expt.RewardStats) RewardStats {
		return RewardStats{st.Name, st.Count, st.NaNs, Num(st.Mean), Num(st.Std), Num(st.Min), Num(st.Max)}
	})
}

// GroupsOf is a group list on the wire.
func GroupsOf(list []*expt.RolloutGroup) []Group {
	return each(list, func(g *expt.RolloutGroup) Group {
		return Group{Step: g.Step, Mode: g.Mode, PromptText: g.Prompt, Group: g.Group, Count: g.Count, Rewards: StatsOf(g.Rewards)}
	})
}

// StepCountsOf is the rollout count of each step on the wire.
func StepCountsOf(list []expt.StepCount) StepCounts {
	return StepCounts{Steps: each(list, func(c expt.StepCount) StepCount { return StepCount(c) })}
}

// StepRewardsOf is per-step reward summaries on the wire.
func StepRewardsOf(list []expt.StepRewards) StepRewardList {
	return StepRewardList{Steps: each(list, func(sr expt.StepRewards) StepRewards {
		return StepRewards{sr.Step, sr.Mode, sr.Count, StatsOf(sr.Rewards)}
	})}
}

// RunErrorsOf is a page of errors on the wire.
func RunErrorsOf(list []expt.RunError, more bool) RunErrors {
	return RunErrors{More: more, Errors: each(list, func(e expt.RunError) RunError {
		return RunError{e.ID, e.Step, e.Mode, e.Message, e.Type, e.Traceback, Num(e.TS), e.CreatedAt}
	})}
}

// EnvLogsOf is environment logs on the wire.
func EnvLogsOf(list []expt.EnvLog) EnvLogs {
	return EnvLogs{Logs: each(list, func(l expt.EnvLog) EnvLog { return EnvLog(l) })}
}

func orEmpty(list []string) []string {
	if list == nil {
		return []string{}
	}
	return list
}

// each maps list through f, to [] rather than null when empty.
func each[T, U any](list []T, f func(T) U) []U {
	out := make([]U, len(list))
	for i, v := range list {
		out[i] = f(v)
	}
	return out
}

// RewardDistributionOf is d on the wire.
func RewardDistributionOf(d *expt.RewardDistribution) RewardDistribution {
	out := RewardDistribution{Name: d.Name, Mode: d.Mode, Lo: Num(d.Lo), Hi: Num(d.Hi), Bins: d.Bins, BucketSteps: d.BucketSteps,
		Steps: make([]DistributionStep, len(d.Steps))}
	for i, s := range d.Steps {
		out.Steps[i] = DistributionStep{Step: s.Step, Count: s.Count, NaNs: s.NaNs, Counts: s.Counts,
			Mean: Num(s.Mean), P10: Num(s.P10), P50: Num(s.P50), P90: Num(s.P90)}
	}
	return out
}
