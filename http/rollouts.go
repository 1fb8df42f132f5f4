package http

import (
	"context"
	"net/http"
	"strconv"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/api"
)

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
	resp := api.RolloutsWritten{Accepted: len(batch), Replayed: !applied, IDs: []int64{}}
	if applied {
		for _, ro := range batch {
			resp.IDs = append(resp.IDs, ro.ID)
		}
		if len(batch) > 0 {
			s.events.Publish(r.Context(), expt.Event{Type: expt.EventRollouts, ExperimentID: e.ID, Rollouts: batch})
		}
	}
	return writeJSON(w, http.StatusOK, resp)
}

func (s *Server) listRollouts(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r, opRead)
	if err != nil {
		return err
	}
	q, err := parseRolloutQuery(r.URL.Query())
	if err != nil {
		return err
	}
	q.ExperimentID = e.ID
	preview, tags, err := viewParams(r.URL.Query())
	if err != nil {
		return err
	}
	page, more, err := s.store.Rollouts(r.Context(), q)
	if err != nil {
		return err
	}
	if preview {
		return writeJSON(w, http.StatusOK, api.RolloutPage{Rollouts: api.PreviewsOf(page, tags), More: more})
	}
	return writeJSON(w, http.StatusOK, api.RolloutPage{Rollouts: api.RolloutsOf(page), More: more})
}

func (s *Server) getRollout(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r, opRead)
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
	return writeJSON(w, http.StatusOK, api.RolloutWithTokens(ro))
}

func (s *Server) rolloutGroups(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r, opRead)
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
	return writeJSON(w, http.StatusOK, api.GroupPage{Groups: api.GroupsOf(page), More: more})
}

func (s *Server) rolloutSummary(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r, opRead)
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
	return writeJSON(w, http.StatusOK, api.GroupSummary{Groups: api.GroupsOf(page), Page: pageNo, Limit: q.Limit, More: more})
}

func (s *Server) rolloutSteps(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r, opRead)
	if err != nil {
		return err
	}
	steps, err := s.store.RolloutSteps(r.Context(), e.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.StepCountsOf(steps))
}

func (s *Server) stepRewards(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r, opRead)
	if err != nil {
		return err
	}
	list, err := s.store.StepRewards(r.Context(), e.ID, r.URL.Query().Get("mode"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.StepRewardsOf(list))
}

// rewardDistribution is one reward's values over training as a heatmap
// with quantiles (see expt.RewardDistribution).
func (s *Server) rewardDistribution(w http.ResponseWriter, r *http.Request) error {
	return s.distribution(w, r, true, s.store.RewardDistribution)
}

// lengthDistribution is the same for response lengths.
func (s *Server) lengthDistribution(w http.ResponseWriter, r *http.Request) error {
	return s.distribution(w, r, false, s.store.LengthDistribution)
}

func (s *Server) distribution(w http.ResponseWriter, r *http.Request, named bool,
	read func(context.Context, expt.DistributionQuery) (*expt.RewardDistribution, error)) error {
	e, err := s.experiment(r, opRead)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	dq := expt.DistributionQuery{ExperimentID: e.ID, Mode: q.Get("mode")}
	if dq.Mode == "" {
		dq.Mode = "train"
	}
	if named {
		if dq.Name = q.Get("name"); dq.Name == "" {
			return invalid("name: is required (the reward's name)")
		}
	}
	if dq.Bins, err = intParam(q, "bins", 24, 1, expt.MaxDistributionBins); err != nil {
		return err
	}
	if dq.MaxSteps, err = intParam(q, "maxSteps", 500, 1, expt.MaxDistributionSteps); err != nil {
		return err
	}
	d, err := read(r.Context(), dq)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.RewardDistributionOf(d))
}
