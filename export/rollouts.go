package export

import (
	"context"
	"fmt"
	"io"

	"github.com/expt-logger/expt"
)

// Rollouts selects the rollouts of an export.
type Rollouts struct {
	Experiments []string
	Mode        string
	Step        *int64
	FromStep    *int64
	ToStep      *int64
	Search      string
}

// rolloutPage is how many rollouts an export reads at once: with texts of
// 20-30 KB, a few megabytes.
const rolloutPage = 200

// RewardColumn is the column name of a reward: prefixed, so that a reward
// named "step" cannot take the place of the step.
func RewardColumn(name string) string { return "reward/" + name }

// WriteRollouts writes the rollouts q selects to w as one table: a row
// each, messages and metadata as JSON, a column per reward (null where a
// rollout has not that reward).
func WriteRollouts(ctx context.Context, src Source, q Rollouts, f Format, w io.Writer, progress Progress) error {
	var names []string
	seen := map[string]bool{}
	for _, id := range q.Experiments {
		ns, err := src.RewardNames(ctx, id)
		if err != nil {
			return fmt.Errorf("export %s: %w", id, err)
		}
		for _, n := range ns {
			if !seen[n] {
				seen[n] = true
				names = append(names, n)
			}
		}
	}
	cols := []Column{
		{Name: "experiment", Kind: String, Dict: true},
		{Name: "id", Kind: Int},
		{Name: "step", Kind: Int},
		{Name: "mode", Kind: String, Dict: true},
		{Name: "group", Kind: String, Optional: true},
		{Name: "prompt", Kind: String},
		{Name: "messages", Kind: JSON},
	}
	first := len(cols)
	rewardCol := make(map[string]int, len(names))
	for i, n := range names {
		rewardCol[n] = first + i
		cols = append(cols, Column{Name: RewardColumn(n), Kind: Float, Optional: true})
	}
	cols = append(cols,
		Column{Name: "metadata", Kind: JSON, Optional: true},
		Column{Name: "token_count", Kind: Int},
		Column{Name: "client_id", Kind: String, Optional: true},
		Column{Name: "ts", Kind: Float},
		Column{Name: "created_at", Kind: Time},
	)
	t, err := NewTable(f, w, cols)
	if err != nil {
		return err
	}
	cells := make([]Cell, len(cols))
	var n int64
	for _, id := range q.Experiments {
		rq := expt.RolloutQuery{ExperimentID: id, Mode: q.Mode, Step: q.Step, FromStep: q.FromStep, ToStep: q.ToStep, Search: q.Search,
			Limit: rolloutPage, RawMessages: true}
		cells[0].S = id
		for {
			page, more, err := src.Rollouts(ctx, rq)
			if err != nil {
				return fmt.Errorf("export %s: %w", id, err)
			}
			for _, r := range page {
				cells[1].I, cells[2].I, cells[3].S = r.ID, r.Step, r.Mode
				cells[4] = Cell{S: r.Group, Null: r.Group == ""}
				cells[5].S = r.Prompt
				cells[6].S = r.MessagesJSON // read with RawMessages: the array as stored
				for i := first; i < first+len(names); i++ {
					cells[i] = Cell{Null: true}
				}
				for _, rw := range r.Rewards {
					cells[rewardCol[rw.Name]] = Cell{F: rw.Value}
				}
				k := first + len(names)
				cells[k] = Cell{S: string(r.Metadata), Null: r.Metadata == nil}
				cells[k+1].I = r.TokenCount
				cells[k+2] = Cell{S: r.ClientID, Null: r.ClientID == ""}
				cells[k+3].F = r.TS
				cells[k+4].I = Micros(r.CreatedAt)
				if err := t.Row(cells); err != nil {
					return err
				}
			}
			n += int64(len(page))
			if progress != nil {
				progress(n)
			}
			if !more || len(page) == 0 {
				break
			}
			rq.AfterID = page[len(page)-1].ID
		}
	}
	return t.Close()
}
