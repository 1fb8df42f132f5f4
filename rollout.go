package expt

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// Message is one chat turn. Raw is the object exactly as logged, extra keys
// (tool_calls, name, tool_call_id, ...) included; Role and Content are taken
// from it for search and display (Content is "" when not a string).
type Message struct {
	Role    string
	Content string
	Raw     json.RawMessage
}

// Reward is one named reward of a rollout; Value may be NaN or ±Inf.
type Reward struct {
	Name  string
	Value float64
}

// Rollout is one sampled completion. It has no natural key: the store
// assigns ID, and batch idempotency keeps retries from duplicating it.
type Rollout struct {
	ID           int64
	ClientID     string // an id the client chose (the published client's `id`), for its env logs; "" when none
	ExperimentID string
	Step         int64
	Mode         string
	Prompt       string          // prompt text: the group key and searched
	Group        string          // an explicit GRPO group id; "" keys the group by step, mode and prompt text alone
	PromptRaw    json.RawMessage // the prompt as logged when it was a message object; nil for a string
	Messages     []Message
	MessagesJSON string // the messages as the stored JSON array, instead of Messages, when read with RawMessages
	Rewards      []Reward
	Tokens       []MessageTokens // only read back by Rollout (one rollout), never in lists
	TokenCount   int64           // how many tokens Tokens holds, in lists too; 0 when none
	Metadata     json.RawMessage // a JSON object kept verbatim (sample index, model version, stop reason…); nil when none
	TS           float64         // client wall clock; 0 when unknown
	CreatedAt    time.Time
}

// RewardFilter keeps rollouts whose reward Name compares to Value by Op,
// one of < <= > >= = !=.
type RewardFilter struct {
	Name  string
	Op    string
	Value float64
}

// Rollout sort keys; a reward sort is SortReward + name ("reward:correctness").
const (
	SortStep   = "step"
	SortID     = "id"
	SortReward = "reward:"
)

// RolloutQuery selects a page of an experiment's rollouts. Zero fields do not filter.
type RolloutQuery struct {
	ExperimentID string
	Mode         string
	Step         *int64
	FromStep     *int64
	ToStep       *int64
	Prompt       *string // exactly this prompt text (a group, or the prompt timeline with no step)
	Group        *string // exactly this explicit group id ("" for rollouts logged without one)
	Rewards      []RewardFilter
	Search       string // full-text query over prompt and message contents
	Sort         string // SortID (logging order) when empty
	Desc         bool
	Offset       int
	Limit        int // 0: the store's default (50)
	// AfterID pages by key in id order (Sort SortID or ""): only rollouts
	// after it (below it when Desc). 0 for none. Unlike Offset, a page far
	// into a million rollouts costs what the first does.
	AfterID int64
	// RawMessages reads each rollout's messages as the stored JSON array
	// (MessagesJSON) and leaves Messages nil: an export writes them as
	// they are, without splitting 20 KB texts and joining them again.
	RawMessages bool
}

// rewardOps are the operators a RewardFilter may use.
var rewardOps = map[string]bool{"<": true, "<=": true, ">": true, ">=": true, "=": true, "!=": true}

// Check validates q as every store must before reading, and returns the
// reward name to sort by ("" for logging or step order).
func (q RolloutQuery) Check() (sortReward string, err error) {
	if q.Offset < 0 || q.Limit < 0 || q.AfterID < 0 {
		return "", Errorf(EINVALID, "offset, limit and after must not be negative")
	}
	if q.AfterID > 0 && q.Sort != "" && q.Sort != SortID {
		return "", Errorf(EINVALID, "after pages in id order only: leave sort out or use sort=id")
	}
	for _, rf := range q.Rewards {
		if rf.Name == "" {
			return "", Errorf(EINVALID, "reward filter needs a reward name")
		}
		if !rewardOps[rf.Op] {
			return "", Errorf(EINVALID, "unknown reward operator %q", rf.Op)
		}
	}
	switch {
	case q.Sort == "" || q.Sort == SortID || q.Sort == SortStep:
		return "", nil
	case strings.HasPrefix(q.Sort, SortReward) && len(q.Sort) > len(SortReward):
		return strings.TrimPrefix(q.Sort, SortReward), nil
	}
	return "", Errorf(EINVALID, "unknown sort %q", q.Sort)
}

// RewardStats summarises one reward over a set of rollouts; NaN values are
// counted in NaNs and left out of the rest.
type RewardStats struct {
	Name  string
	Count int64
	NaNs  int64
	Mean  float64
	Std   float64 // population standard deviation
	Min   float64
	Max   float64
}

// RolloutGroup is a GRPO group: rollouts of one experiment with the same
// step, mode, prompt text and explicit group id ("" when none was given).
type RolloutGroup struct {
	Step    int64
	Mode    string
	Prompt  string
	Group   string
	Count   int64
	Rewards []RewardStats
}

// GroupQuery selects a page of groups, by step then prompt.
type GroupQuery struct {
	ExperimentID string
	Mode         string
	Step         *int64
	FromStep     *int64
	ToStep       *int64
	Search       string
	Offset       int
	Limit        int
}

// StepRewards is the summary of every reward logged at one step and mode.
type StepRewards struct {
	Step    int64
	Mode    string
	Count   int64 // rollouts
	Rewards []RewardStats
}

// StepCount is how many rollouts one step of one mode has.
type StepCount struct {
	Mode  string
	Step  int64
	Count int64
}

// RolloutStore keeps rollouts. Callers check that the experiment is the
// user's before calling.
type RolloutStore interface {
	// WriteRollouts stores a batch in one transaction, all or nothing, and
	// sets each rollout's ID and CreatedAt. idemKey works as in WriteScalars.
	WriteRollouts(ctx context.Context, experimentID string, batch []*Rollout, idemKey string) (applied bool, err error)
	Rollout(ctx context.Context, experimentID string, id int64) (*Rollout, error)
	// Rollouts returns a page and whether more follow it.
	Rollouts(ctx context.Context, q RolloutQuery) (page []*Rollout, more bool, err error)
	RolloutGroups(ctx context.Context, q GroupQuery) (page []*RolloutGroup, more bool, err error)
	// StepRewards returns per-step reward summaries of one mode ("" for all), by step.
	StepRewards(ctx context.Context, experimentID, mode string) ([]StepRewards, error)
	// RewardDistribution is one reward's values over training, binned: see
	// DistributionQuery. ENOTFOUND for a missing experiment; no steps when
	// the reward was never logged in that mode.
	RewardDistribution(ctx context.Context, q DistributionQuery) (*RewardDistribution, error)
	// LengthDistribution is the same for the response length (the
	// assistant messages' text in UTF-16 code units); q.Name is unused.
	LengthDistribution(ctx context.Context, q DistributionQuery) (*RewardDistribution, error)
	// RolloutSteps lists the steps that have rollouts, by mode then step.
	RolloutSteps(ctx context.Context, experimentID string) ([]StepCount, error)
}

// DistributionQuery asks for one reward's distribution over the steps of a mode.
type DistributionQuery struct {
	ExperimentID string
	Mode         string
	Name         string
	Bins         int // equal bins over [Lo, Hi]
	MaxSteps     int // at most this many step buckets (consecutive steps merged)
}

// Distribution limits.
const (
	MaxDistributionBins  = 100
	MaxDistributionSteps = 2000
)

// RewardDistribution is a heatmap of one series over training: for each
// bucket of consecutive steps, how many finite values fall in each of Bins
// equal bins over [Lo, Hi], and nearest-rank quantiles. Stores keep a
// sketch per step, exact up to a few hundred distinct values per step and
// merged into equal-weight centroids beyond, so reading costs one row per
// step whatever the rollouts.
type RewardDistribution struct {
	Name        string
	Mode        string
	Lo, Hi      float64 // over every finite value in the mode
	Bins        int
	BucketSteps int64 // consecutive steps per bucket
	Steps       []DistributionStep
}

// DistributionStep is one bucket of steps.
type DistributionStep struct {
	Step          int64 // the bucket's first step
	Count         int64 // finite values
	NaNs          int64
	Counts        []int64 // per bin
	Mean          float64
	P10, P50, P90 float64
}
