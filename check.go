package expt

import (
	"encoding/json"
	"strings"
	"unicode/utf8"
)

// Limits of one batch and of its fields (docs/wire.md). They are checked
// once, by CheckScalars, CheckRollouts, CheckRunErrors and CheckEnvLogs,
// which every store calls before writing; decoders only parse.
const (
	MaxStep              = 1 << 53 // the largest integer every JSON client reads exactly
	MaxScalarsPerBatch   = 100_000
	MaxRolloutsPerBatch  = 10_000
	MaxRunLogsPerBatch   = 10_000
	MaxRewardsPerRollout = 1_000
	MaxNameBytes         = 256 // metric, reward, key and client id names
	MaxModeBytes         = 64
	MaxErrorMessageBytes = 64 << 10
	MaxMetadataBytes     = 64 << 10 // one rollout's metadata object, as JSON
)

// CheckScalars checks a batch of scalars. Errors name the point as the
// wire does: "scalars[3].mode: must not be empty".
func CheckScalars(batch []Scalar) error {
	if len(batch) > MaxScalarsPerBatch {
		return Errorf(ETOOLARGE, "scalars: more than %d points in one batch", MaxScalarsPerBatch)
	}
	for i := range batch {
		s := &batch[i]
		if err := checkStep(s.Step, "scalars", i); err != nil {
			return err
		}
		if err := checkText(s.Mode, MaxModeBytes, "scalars", i, "mode"); err != nil {
			return err
		}
		if err := checkText(s.Name, MaxNameBytes, "scalars", i, "name"); err != nil {
			return err
		}
	}
	return nil
}

// CheckRollouts checks a batch of rollouts: modes, steps, reward names
// (present, short, each once per rollout), and that the raw JSON of the
// prompt and of every message is valid.
func CheckRollouts(batch []*Rollout) error {
	if len(batch) > MaxRolloutsPerBatch {
		return Errorf(ETOOLARGE, "rollouts: more than %d in one batch", MaxRolloutsPerBatch)
	}
	for i, r := range batch {
		if r == nil {
			return Errorf(EINVALID, "rollouts[%d]: must be an object", i)
		}
		if err := checkStep(r.Step, "rollouts", i); err != nil {
			return err
		}
		if err := checkText(r.Mode, MaxModeBytes, "rollouts", i, "mode"); err != nil {
			return err
		}
		if len(r.ClientID) > MaxNameBytes {
			return Errorf(EINVALID, "rollouts[%d].id: longer than %d bytes", i, MaxNameBytes)
		}
		if len(r.Group) > MaxNameBytes {
			return Errorf(EINVALID, "rollouts[%d].group: longer than %d bytes", i, MaxNameBytes)
		}
		if !utf8.ValidString(r.Group) || strings.IndexByte(r.Group, 0) >= 0 {
			return Errorf(EINVALID, "rollouts[%d].group: not valid UTF-8 text", i)
		}
		if r.PromptRaw != nil && !json.Valid(r.PromptRaw) {
			return Errorf(EINVALID, "rollouts[%d].promptText: not valid JSON", i)
		}
		for j, m := range r.Messages {
			if len(m.Raw) > 0 && !json.Valid(m.Raw) {
				return Errorf(EINVALID, "rollouts[%d].messages[%d]: not valid JSON", i, j)
			}
		}
		if len(r.Rewards) > MaxRewardsPerRollout {
			return Errorf(EINVALID, "rollouts[%d].rewards: more than %d rewards", i, MaxRewardsPerRollout)
		}
		if err := checkRewardNames(r.Rewards, i); err != nil {
			return err
		}
		if err := checkTokens(r, i); err != nil {
			return err
		}
		if err := checkMetadata(r.Metadata, i); err != nil {
			return err
		}
	}
	return nil
}

// checkMetadata holds metadata to a JSON object of bounded size; it is kept
// verbatim, so it must be valid as it stands.
func checkMetadata(m json.RawMessage, i int) error {
	if m == nil {
		return nil
	}
	switch {
	case len(m) > MaxMetadataBytes:
		return Errorf(EINVALID, "rollouts[%d].metadata: longer than %d bytes", i, MaxMetadataBytes)
	case !json.Valid(m):
		return Errorf(EINVALID, "rollouts[%d].metadata: not valid JSON", i)
	case firstNonSpace(m) != '{':
		return Errorf(EINVALID, "rollouts[%d].metadata: must be an object", i)
	}
	return nil
}

func firstNonSpace(b []byte) byte {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\n' && c != '\r' {
			return c
		}
	}
	return 0
}

func checkRewardNames(rewards []Reward, i int) error {
	seen := make(map[string]bool, len(rewards))
	for _, rw := range rewards {
		switch {
		case rw.Name == "":
			return Errorf(EINVALID, "rollouts[%d].rewards: a reward name must not be empty", i)
		case len(rw.Name) > MaxNameBytes:
			return Errorf(EINVALID, "rollouts[%d].rewards: reward name longer than %d bytes", i, MaxNameBytes)
		case seen[rw.Name]:
			return Errorf(EINVALID, "rollouts[%d].rewards: reward %q appears twice", i, rw.Name)
		}
		seen[rw.Name] = true
	}
	return nil
}

// CheckRunErrors checks a batch of reported errors.
func CheckRunErrors(batch []RunError) error {
	if len(batch) > MaxRunLogsPerBatch {
		return Errorf(ETOOLARGE, "errors: more than %d in one batch", MaxRunLogsPerBatch)
	}
	for i, e := range batch {
		if e.Step != nil {
			if err := checkStep(*e.Step, "errors", i); err != nil {
				return err
			}
		}
		switch {
		case len(e.Mode) > MaxModeBytes:
			return Errorf(EINVALID, "errors[%d].mode: longer than %d bytes", i, MaxModeBytes)
		case len(e.Message) > MaxErrorMessageBytes:
			return Errorf(EINVALID, "errors[%d].message: longer than %d bytes", i, MaxErrorMessageBytes)
		case len(e.Type) > MaxNameBytes:
			return Errorf(EINVALID, "errors[%d].error_type: longer than %d bytes", i, MaxNameBytes)
		}
	}
	return nil
}

// CheckEnvLogs checks a batch of environment logs.
func CheckEnvLogs(batch []EnvLog) error {
	if len(batch) > MaxRunLogsPerBatch {
		return Errorf(ETOOLARGE, "logs: more than %d in one batch", MaxRunLogsPerBatch)
	}
	for i, l := range batch {
		if err := checkText(l.RolloutID, MaxNameBytes, "logs", i, "rolloutId"); err != nil {
			return err
		}
	}
	return nil
}

func checkStep(step int64, list string, i int) error {
	switch {
	case step < 0:
		return Errorf(EINVALID, "%s[%d].step: must not be negative", list, i)
	case step > MaxStep:
		return Errorf(EINVALID, "%s[%d].step: must be at most 2^53", list, i)
	}
	return nil
}

func checkText(s string, max int, list string, i int, field string) error {
	switch {
	case s == "":
		return Errorf(EINVALID, "%s[%d].%s: must not be empty", list, i, field)
	case len(s) > max:
		return Errorf(EINVALID, "%s[%d].%s: longer than %d bytes", list, i, field, max)
	case !utf8.ValidString(s):
		return Errorf(EINVALID, "%s[%d].%s: not valid UTF-8", list, i, field)
	}
	return nil
}

// Bounds of an experiment's labels.
const (
	MaxTags      = 64
	MaxTagBytes  = 128
	MaxNoteBytes = 64 << 10
)

// CheckLabels checks an experiment's tags, notes and group, and returns the
// tags trimmed, without empty ones or repeats, in their order.
func CheckLabels(tags []string, notes, group string) ([]string, error) {
	if len(tags) > MaxTags {
		return nil, Errorf(EINVALID, "tags: more than %d", MaxTags)
	}
	out := make([]string, 0, len(tags))
	seen := map[string]bool{}
	for i, t := range tags {
		t = strings.TrimSpace(t)
		if len(t) > MaxTagBytes {
			return nil, Errorf(EINVALID, "tags[%d]: longer than %d bytes", i, MaxTagBytes)
		}
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	if len(notes) > MaxNoteBytes {
		return nil, Errorf(EINVALID, "notes: longer than %d bytes", MaxNoteBytes)
	}
	if len(group) > MaxNameBytes {
		return nil, Errorf(EINVALID, "group: longer than %d bytes", MaxNameBytes)
	}
	return out, nil
}
