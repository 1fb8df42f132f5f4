package api

import (
	"encoding/json"
	"time"
)

// Message is a chat message as logged, every key kept ({"role",
// "content", "tool_calls", ...}).
type Message = json.RawMessage

// RolloutIn is one rollout of POST /api/experiments/{id}/rollouts.
type RolloutIn struct {
	ID         string          `json:"id,omitempty"` // the client's own id, kept as clientId
	Step       int64           `json:"step"`
	Mode       string          `json:"mode"`
	PromptText any             `json:"promptText,omitempty"` // a string or a Message
	Messages   []Message       `json:"messages,omitempty"`
	Rewards    []Reward        `json:"rewards,omitempty"` // the server also takes an object of name to value
	Tokens     []Tokens        `json:"tokens,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"` // a JSON object, kept verbatim
	Group      string          `json:"group,omitempty"`    // an explicit GRPO group id; none: step, mode and prompt text key the group
	TS         *float64        `json:"ts,omitempty"`
}

// Rollouts is the body of a rollout write.
type Rollouts struct {
	Rollouts []RolloutIn `json:"rollouts"`
}

// Rollout is a stored rollout; messages are the objects as logged.
type Rollout struct {
	ID         int64           `json:"id"`
	ClientID   string          `json:"clientId,omitempty"`
	Step       int64           `json:"step"`
	Mode       string          `json:"mode"`
	PromptText string          `json:"promptText"`
	Prompt     Message         `json:"prompt,omitempty"`
	Messages   []Message       `json:"messages"`
	Rewards    []Reward        `json:"rewards"`
	TS         Num             `json:"ts"`
	CreatedAt  time.Time       `json:"createdAt"`
	Preview    *Preview        `json:"preview,omitempty"`
	Tokens     []Tokens        `json:"tokens,omitempty"`
	TokenCount int64           `json:"tokenCount,omitempty"`
	Metadata   json.RawMessage `json:"metadata,omitempty"` // the object as logged
	Group      string          `json:"group,omitempty"`    // the explicit group id, when one was logged
}

// Tokens is one message's tokens on the wire.
type Tokens struct {
	Message int         `json:"message"`
	Text    []string    `json:"text"`
	Values  TokenValues `json:"values,omitempty"`
}

// TokenValues is the named per-token values as one JSON object whose keys
// keep the order they were logged in (a Go map would sort them, and the
// first is what the chat view colours by).
type TokenValues []NamedNums

// NamedNums is one named list of numbers.
type NamedNums struct {
	Name   string
	Values []Num
}

// MarshalJSON writes {"name": [...], ...} in order.
func (v TokenValues) MarshalJSON() ([]byte, error) {
	b := []byte{'{'}
	for i, nv := range v {
		if i > 0 {
			b = append(b, ',')
		}
		k, err := json.Marshal(nv.Name)
		if err != nil {
			return nil, err
		}
		vs, err := json.Marshal(nv.Values)
		if err != nil {
			return nil, err
		}
		b = append(append(append(b, k...), ':'), vs...)
	}
	return append(b, '}'), nil
}

// Preview is what the rollout table shows of a rollout sent without its
// messages (GET .../rollouts?view=preview).
type Preview struct {
	Answer   string `json:"answer"`
	Boxed    string `json:"boxed"`
	Chars    int64  `json:"chars"`
	Messages int    `json:"messages"`
}

// Reward is one named reward of a rollout.
type Reward struct {
	Name  string `json:"name"`
	Value Num    `json:"value"`
}

// RolloutPage is a page of GET /api/experiments/{id}/rollouts.
type RolloutPage struct {
	Rollouts []Rollout `json:"rollouts"`
	More     bool      `json:"more"`
}

// RewardStats summarises one reward over rollouts: NaN values are counted
// in nans and left out of the rest; std is the population standard
// deviation.
type RewardStats struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
	NaNs  int64  `json:"nans"`
	Mean  Num    `json:"mean"`
	Std   Num    `json:"std"`
	Min   Num    `json:"min"`
	Max   Num    `json:"max"`
}

// Group is the rollouts of one prompt at one step and mode (a GRPO group).
type Group struct {
	Step       int64         `json:"step"`
	Mode       string        `json:"mode"`
	PromptText string        `json:"promptText"`
	Group      string        `json:"group,omitempty"` // the explicit group id; omitted for a group keyed by its prompt alone
	Count      int64         `json:"count"`
	Rewards    []RewardStats `json:"rewards"`
}

// GroupPage is a page of GET /api/experiments/{id}/rollout-groups.
type GroupPage struct {
	Groups []Group `json:"groups"`
	More   bool    `json:"more"`
}

// GroupSummary is the original platform's paged group summary.
type GroupSummary struct {
	Groups []Group `json:"groups"`
	Page   int     `json:"page"`
	Limit  int     `json:"limit"`
	More   bool    `json:"more"`
}

// StepCount is how many rollouts one step of one mode has.
type StepCount struct {
	Mode  string `json:"mode"`
	Step  int64  `json:"step"`
	Count int64  `json:"count"`
}

// StepCounts is GET /api/experiments/{id}/rollout-steps.
type StepCounts struct {
	Steps []StepCount `json:"steps"`
}

// StepRewards summarises the rewards of one step's rollouts of one mode.
type StepRewards struct {
	Step    int64         `json:"step"`
	Mode    string        `json:"mode"`
	Count   int64         `json:"count"`
	Rewards []RewardStats `json:"rewards"`
}

// StepRewardList is GET /api/experiments/{id}/step-rewards.
type StepRewardList struct {
	Steps []StepRewards `json:"steps"`
}

// RunError is an error the training script reported, with its traceback.
type RunError struct {
	ID        int64     `json:"id"`
	Step      *int64    `json:"step"`
	Mode      string    `json:"mode"`
	Message   string    `json:"message"`
	Type      string    `json:"errorType"`
	Traceback string    `json:"traceback"`
	TS        Num       `json:"ts,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// RunErrors is a page of GET /api/experiments/{id}/errors.
type RunErrors struct {
	Errors []RunError `json:"errors"`
	More   bool       `json:"more"`
}

// EnvLog is one environment log of a client rollout id.
type EnvLog struct {
	ID        int64     `json:"id"`
	RolloutID string    `json:"rolloutId"`
	Content   string    `json:"content"`
	CreatedAt time.Time `json:"createdAt"`
}

// EnvLogs is GET /api/experiments/{id}/environment-logs.
type EnvLogs struct {
	Logs []EnvLog `json:"logs"`
}

// RewardDistribution is GET /api/experiments/{id}/rewards/distribution.
type RewardDistribution struct {
	Name        string             `json:"name"`
	Mode        string             `json:"mode"`
	Lo          Num                `json:"lo"`
	Hi          Num                `json:"hi"`
	Bins        int                `json:"bins"`
	BucketSteps int64              `json:"bucketSteps"`
	Steps       []DistributionStep `json:"steps"`
}

// DistributionStep is one bucket of consecutive steps.
type DistributionStep struct {
	Step   int64   `json:"step"`
	Count  int64   `json:"count"`
	NaNs   int64   `json:"nans"`
	Counts []int64 `json:"counts"`
	Mean   Num     `json:"mean"`
	P10    Num     `json:"p10"`
	P50    Num     `json:"p50"`
	P90    Num     `json:"p90"`
}

// RunErrorIn is one error of POST /api/experiments/{id}/errors.
type RunErrorIn struct {
	Step      *int64   `json:"step,omitempty"`
	Mode      string   `json:"mode,omitempty"`
	Message   string   `json:"message"`
	ErrorType string   `json:"errorType,omitempty"`
	Traceback *string  `json:"traceback,omitempty"`
	TS        *float64 `json:"ts,omitempty"`
}

// RunErrorsIn is the body of an error write.
type RunErrorsIn struct {
	Errors []RunErrorIn `json:"errors"`
}

// EnvLogIn is one environment log of POST /api/experiments/{id}/env-logs.
type EnvLogIn struct {
	RolloutID string `json:"rolloutId"`
	Content   string `json:"content"`
}

// EnvLogsIn is the body of an environment-log write.
type EnvLogsIn struct {
	Logs []EnvLogIn `json:"logs"`
}
