package http

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/expt-logger/expt"
)

// rolloutJSON is a rollout on the wire; messages are the objects as logged.
type rolloutJSON struct {
	ID         int64             `json:"id"`
	ClientID   string            `json:"clientId,omitempty"`
	Step       int64             `json:"step"`
	Mode       string            `json:"mode"`
	PromptText string            `json:"promptText"`
	Prompt     json.RawMessage   `json:"prompt,omitempty"`
	Messages   []json.RawMessage `json:"messages"`
	Rewards    []rewardJSON      `json:"rewards"`
	TS         num               `json:"ts"`
	CreatedAt  time.Time         `json:"createdAt"`
}

type rewardJSON struct {
	Name  string `json:"name"`
	Value num    `json:"value"`
}

func toRolloutJSON(ro *expt.Rollout) rolloutJSON {
	out := rolloutJSON{
		ID: ro.ID, ClientID: ro.ClientID, Step: ro.Step, Mode: ro.Mode, PromptText: ro.Prompt, Prompt: ro.PromptRaw,
		Messages: make([]json.RawMessage, len(ro.Messages)), Rewards: make([]rewardJSON, len(ro.Rewards)),
		TS: num(ro.TS), CreatedAt: ro.CreatedAt,
	}
	for i, m := range ro.Messages {
		out.Messages[i] = m.Raw
	}
	for i, rw := range ro.Rewards {
		out.Rewards[i] = rewardJSON{rw.Name, num(rw.Value)}
	}
	return out
}

func toRolloutsJSON(list []*expt.Rollout) []rolloutJSON {
	out := make([]rolloutJSON, len(list))
	for i, ro := range list {
		out[i] = toRolloutJSON(ro)
	}
	return out
}

// statsJSON is expt.RewardStats with non-finite numbers as strings: a mean
// over an Inf reward is Inf, which encoding/json would refuse.
type statsJSON struct {
	Name  string `json:"name"`
	Count int64  `json:"count"`
	NaNs  int64  `json:"nans"`
	Mean  num    `json:"mean"`
	Std   num    `json:"std"`
	Min   num    `json:"min"`
	Max   num    `json:"max"`
}

func toStatsJSON(list []expt.RewardStats) []statsJSON {
	out := make([]statsJSON, len(list))
	for i, st := range list {
		out[i] = statsJSON{st.Name, st.Count, st.NaNs, num(st.Mean), num(st.Std), num(st.Min), num(st.Max)}
	}
	return out
}

type groupJSON struct {
	Step       int64       `json:"step"`
	Mode       string      `json:"mode"`
	PromptText string      `json:"promptText"`
	Count      int64       `json:"count"`
	Rewards    []statsJSON `json:"rewards"`
}

func toGroupsJSON(list []*expt.RolloutGroup) []groupJSON {
	out := make([]groupJSON, len(list))
	for i, g := range list {
		out[i] = groupJSON{g.Step, g.Mode, g.Prompt, g.Count, toStatsJSON(g.Rewards)}
	}
	return out
}

func (s *Server) writeRollouts(w http.ResponseWriter, r *http.Request) error {
	idem, e, body, err := s.batchRequest(w, r)
	if err != nil {
		return err
	}
	batch, err := decodeRollouts(body)
	if err != nil {
		return err
	}
	applied, err := s.store.WriteRollouts(r.Context(), e.ID, batch, idem)
	if err != nil {
		return err
	}
	resp := writeResponse{Accepted: len(batch), Replayed: !applied, IDs: []int64{}}
	if applied {
		for _, ro := range batch {
			resp.IDs = append(resp.IDs, ro.ID)
		}
		if len(batch) > 0 {
			s.events.Publish(r.Context(), expt.Event{Type: expt.EventRollouts, ExperimentID: e.ID, Rollouts: batch})
		}
	}
	return writeJSON(w, http.StatusOK, struct {
		Accepted int     `json:"accepted"`
		IDs      []int64 `json:"ids"`
		Replayed bool    `json:"replayed"`
	}{resp.Accepted, resp.IDs, resp.Replayed})
}

func (s *Server) listRollouts(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r)
	if err != nil {
		return err
	}
	q, err := parseRolloutQuery(r.URL.Query())
	if err != nil {
		return err
	}
	q.ExperimentID = e.ID
	page, more, err := s.store.Rollouts(r.Context(), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"rollouts": toRolloutsJSON(page), "more": more})
}

func (s *Server) getRollout(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("rolloutId"), 10, 64)
	if err != nil || id <= 0 {
		return expt.Errorf(expt.ENOTFOUND, "rollout %q not found", r.PathValue("rolloutId"))
	}
	ro, err := s.store.Rollout(r.Context(), e.ID, id)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, toRolloutJSON(ro))
}

func (s *Server) rolloutGroups(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r)
	if err != nil {
		return err
	}
	q, err := parseGroupQuery(r.URL.Query())
	if err != nil {
		return err
	}
	q.ExperimentID = e.ID
	page, more, err := s.store.RolloutGroups(r.Context(), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"groups": toGroupsJSON(page), "more": more})
}

func (s *Server) rolloutSummary(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r)
	if err != nil {
		return err
	}
	q, pageNo, err := parseSummaryQuery(r.URL.Query())
	if err != nil {
		return err
	}
	q.ExperimentID = e.ID
	page, more, err := s.store.RolloutGroups(r.Context(), q)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{
		"groups": toGroupsJSON(page), "page": pageNo, "limit": q.Limit, "more": more,
	})
}

func (s *Server) rolloutSteps(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r)
	if err != nil {
		return err
	}
	steps, err := s.store.RolloutSteps(r.Context(), e.ID)
	if err != nil {
		return err
	}
	if steps == nil {
		steps = []expt.StepCount{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"steps": steps})
}

type stepRewardsJSON struct {
	Step    int64       `json:"step"`
	Mode    string      `json:"mode"`
	Count   int64       `json:"count"`
	Rewards []statsJSON `json:"rewards"`
}

func (s *Server) stepRewards(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r)
	if err != nil {
		return err
	}
	list, err := s.store.StepRewards(r.Context(), e.ID, r.URL.Query().Get("mode"))
	if err != nil {
		return err
	}
	out := make([]stepRewardsJSON, len(list))
	for i, sr := range list {
		out[i] = stepRewardsJSON{sr.Step, sr.Mode, sr.Count, toStatsJSON(sr.Rewards)}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"steps": out})
}
