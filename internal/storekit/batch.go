package storekit

import (
	"slices"

	"github.com/expt-logger/expt"
)

// StepKey names one step of one mode.
type StepKey struct {
	Mode string
	Step int64
}

// StepRewardKey names one reward (by name id) at one step.
type StepRewardKey struct {
	StepKey
	Name int64
}

// GroupKey names a GRPO group: its step, mode and the id of the prompt row
// its group is keyed by (the group is keyed by prompt text alone).
type GroupKey struct {
	Mode   string
	Step   int64
	Prompt int64
}

// GroupRewardKey names one reward (by name id) of one group.
type GroupRewardKey struct {
	GroupKey
	Name int64
}

// RewardRows are a batch's rewards as the columns of the rewards table:
// one row per distinct name of each rollout.
type RewardRows struct {
	Rollout, Name []int64
	Value         []float64
}

// BatchStats is what one rollout batch adds to the stored summaries: the
// rollouts per step and per group, each reward's running sums per step and
// moments per group, the batch's highest step, and its reward rows. Both
// stores add these to their tables in the batch's transaction, so reading
// a step or a group never scans its rollouts.
type BatchStats struct {
	Latest    int64 // highest step of the batch; -1 for an empty batch
	Steps     map[StepKey]int64
	StepSums  map[StepRewardKey]*RewardSums
	Groups    map[GroupKey]int64
	GroupSums map[GroupRewardKey]*RewardMoments
	Rewards   RewardRows
	// Values and Lengths are each step's reward values and response
	// lengths, for the step's sketches (MergeSketches).
	Values  map[StepRewardKey][]float64
	Lengths map[StepKey][]float64

	names  []int64 // scratch for one rollout's distinct names
	values []float64
}

// NewBatchStats returns empty stats for a batch of about n rollouts.
func NewBatchStats(n int) *BatchStats {
	return &BatchStats{
		Latest:    -1,
		Steps:     map[StepKey]int64{},
		StepSums:  map[StepRewardKey]*RewardSums{},
		Groups:    map[GroupKey]int64{},
		GroupSums: map[GroupRewardKey]*RewardMoments{},
		Values:    map[StepRewardKey][]float64{},
		Lengths:   map[StepKey][]float64{},
		Rewards: RewardRows{
			Rollout: make([]int64, 0, 3*n), Name: make([]int64, 0, 3*n), Value: make([]float64, 0, 3*n),
		},
	}
}

// Add folds in rollout r, whose ID is set. groupPrompt is the prompt id its
// group is keyed by; nameID resolves a reward name to its id. A name logged
// twice in one rollout keeps its last value, in the order names first appear.
func (s *BatchStats) Add(r *expt.Rollout, groupPrompt int64, nameID func(string) (int64, error)) error {
	sk := StepKey{r.Mode, r.Step}
	s.Steps[sk]++
	s.Lengths[sk] = append(s.Lengths[sk], float64(expt.ResponseLength(r.Messages)))
	gk := GroupKey{r.Mode, r.Step, groupPrompt}
	s.Groups[gk]++
	s.Latest = max(s.Latest, r.Step)
	s.names, s.values = s.names[:0], s.values[:0]
	for _, rw := range r.Rewards {
		nid, err := nameID(rw.Name)
		if err != nil {
			return err
		}
		if j := slices.Index(s.names, nid); j >= 0 {
			s.values[j] = rw.Value
		} else {
			s.names, s.values = append(s.names, nid), append(s.values, rw.Value)
		}
	}
	for j, nid := range s.names {
		v := s.values[j]
		s.Rewards.Rollout = append(s.Rewards.Rollout, r.ID)
		s.Rewards.Name = append(s.Rewards.Name, nid)
		s.Rewards.Value = append(s.Rewards.Value, v)
		k := StepRewardKey{sk, nid}
		if s.StepSums[k] == nil {
			s.StepSums[k] = &RewardSums{}
		}
		s.StepSums[k].Add(v)
		s.Values[k] = append(s.Values[k], v)
		gr := GroupRewardKey{gk, nid}
		if s.GroupSums[gr] == nil {
			s.GroupSums[gr] = &RewardMoments{}
		}
		s.GroupSums[gr].Add(v)
	}
	return nil
}

// MinMax returns a summary's min and max, or NaN for both when it saw no
// number (Count 0): stores keep that as NULL.
func MinMax(count int64, lo, hi float64) (float64, float64) {
	if count == 0 {
		return nan, nan
	}
	return lo, hi
}
