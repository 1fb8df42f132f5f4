package http

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/api"
)

// validUUID reports whether s is a UUID in its canonical 8-4-4-4-12 hex form.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

// experimentURL is the experiment's page in the browser.
func (s *Server) experimentURL(r *http.Request, id string) string {
	base := s.publicURL
	if base == "" {
		scheme := "http"
		if isHTTPS(r) {
			scheme = "https"
		}
		base = scheme + "://" + r.Host
	}
	return strings.TrimRight(base, "/") + "/experiments/" + id
}

// experimentJSON is e on the wire, with its page's URL.
func (s *Server) experimentJSON(r *http.Request, e *expt.Experiment) api.Experiment {
	return api.ExperimentOf(e, s.experimentURL(r, e.ID))
}

// configObject checks that a config is a JSON object; null means none.
func configObject(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	if raw[0] != '{' {
		return nil, invalid("config: must be a JSON object")
	}
	return raw, nil
}

func experimentName(name *string) (string, error) {
	if name == nil {
		return "", nil
	}
	n := strings.TrimSpace(*name)
	if n == "" {
		return "", invalid("name: must not be empty")
	}
	if len(n) > expt.MaxNameBytes {
		return "", invalid("name: longer than %d bytes", expt.MaxNameBytes)
	}
	return n, nil
}

func (s *Server) createExperiment(w http.ResponseWriter, r *http.Request) error {
	var req api.CreateExperimentRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	id := strings.ToLower(req.ID)
	if id == "" {
		id = expt.NewUUID()
	} else if !validUUID(id) {
		return invalid("id: must be a UUID such as 01890a5d-ac96-774b-bcce-b302099a8057")
	}
	name := ""
	if req.Name != nil && strings.TrimSpace(*req.Name) != "" {
		var err error
		if name, err = experimentName(req.Name); err != nil {
			return err
		}
	} else {
		// The original platform makes a name up when the client sends none.
		name = expt.RandomName()
	}
	cfg, err := configObject(req.Config)
	if err != nil {
		return err
	}
	if len(req.JobID) > expt.MaxNameBytes {
		return invalid("jobId: longer than %d bytes", expt.MaxNameBytes)
	}
	p, err := s.logProject(r, req.Project)
	if err != nil {
		return err
	}
	e := &expt.Experiment{ID: id, UserID: userFrom(r).ID, ProjectID: p.ID, Name: name, Config: cfg, JobID: req.JobID,
		Tags: req.Tags, Notes: req.Notes, Group: req.Group}
	created, err := s.store.CreateExperiment(r.Context(), e)
	if err != nil {
		return err
	}
	if !created && e.ProjectID != p.ID {
		// The id names a run elsewhere: resuming it needs the right to
		// log there; otherwise the id is simply taken.
		taken := expt.Errorf(expt.ECONFLICT, "experiment id %q is taken", id)
		if _, err := s.authorize(r, e.ProjectID, opWrite, taken); err != nil {
			if expt.ErrorCode(err) == expt.EFORBIDDEN {
				return taken
			}
			return err
		}
		if p, err = s.store.Project(r.Context(), e.ProjectID); err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusOK, api.CreateExperimentResponse{
		ExperimentID: e.ID, Name: e.Name, Status: e.Status, CreatedAt: e.CreatedAt,
		Created: created, URL: s.experimentURL(r, e.ID), Project: api.ProjectRef{ID: p.ID, Name: p.Name},
	})
}

// logProject is the project a new run goes into: the one named (made
// when missing, if the caller may make projects), else the key's, else
// the caller's personal project. The caller must be able to log there.
func (s *Server) logProject(r *http.Request, name string) (*expt.Project, error) {
	ctx, u, k := r.Context(), userFrom(r), keyFrom(r)
	var p *expt.Project
	var err error
	name = strings.TrimSpace(name)
	switch {
	case name != "":
		p, err = s.store.ProjectByName(ctx, name)
		if expt.ErrorCode(err) == expt.ENOTFOUND && (k == nil || k.ProjectID == 0) && keyAllows(k, opWrite) {
			p = &expt.Project{Name: name} // CreateProject checks the name
			if err = s.store.CreateProject(ctx, p, u.ID); expt.ErrorCode(err) == expt.ECONFLICT {
				p, err = s.store.ProjectByName(ctx, name) // made meanwhile by someone else
			} else if err == nil {
				return p, nil
			}
		}
	case k != nil && k.ProjectID != 0:
		p, err = s.store.Project(ctx, k.ProjectID)
	default:
		p, err = s.store.PersonalProject(ctx, u.ID)
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(r, p.ID, opWrite, expt.Errorf(expt.ENOTFOUND, "project %q not found", p.Name)); err != nil {
		return nil, err
	}
	return p, nil
}

func (s *Server) getExperiment(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r, opAttach)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, s.experimentJSON(r, e))
}

func (s *Server) experimentDetails(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r, opAttach)
	if err != nil {
		return err
	}
	metrics, err := s.metrics(r, e.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.ExperimentDetails{Experiment: s.experimentJSON(r, e), Metrics: api.MetricsOf(metrics)})
}

func (s *Server) updateExperiment(w http.ResponseWriter, r *http.Request) error {
	var req api.ExperimentUpdate
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.ID != "" && !strings.EqualFold(req.ID, r.PathValue("id")) {
		return invalid("id: differs from the experiment in the path")
	}
	return s.applyUpdate(w, r, r.PathValue("id"), req)
}

// updateExperimentLegacy is the older client's PUT with the id in the body.
func (s *Server) updateExperimentLegacy(w http.ResponseWriter, r *http.Request) error {
	var req api.ExperimentUpdate
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	if req.ID == "" {
		return invalid("id is required")
	}
	return s.applyUpdate(w, r, req.ID, req)
}

func (s *Server) applyUpdate(w http.ResponseWriter, r *http.Request, id string, req api.ExperimentUpdate) error {
	var upd expt.ExperimentUpdate
	var err error
	if req.Name != nil {
		n, err := experimentName(req.Name)
		if err != nil {
			return err
		}
		upd.Name = &n
	}
	if upd.Config, err = configObject(req.Config); err != nil {
		return err
	}
	if len(bytes.TrimSpace(req.Config)) > 0 && upd.Config == nil {
		return invalid("config: must be a JSON object")
	}
	upd.Tags, upd.Notes = req.Tags, req.Notes
	if req.Status != nil {
		if *req.Status != expt.StatusActive && *req.Status != expt.StatusComplete && *req.Status != expt.StatusFailed {
			return invalid(`status: must be "active", "complete" or "failed"`)
		}
		upd.Status = req.Status
	}
	e, err := s.experimentByID(r, id, opWrite)
	if err != nil {
		return err
	}
	e, err = s.store.UpdateExperiment(r.Context(), e.ID, upd)
	if err != nil {
		return err
	}
	s.events.Publish(r.Context(), expt.Event{Type: expt.EventExperiment, ExperimentID: e.ID, Experiment: e})
	return writeJSON(w, http.StatusOK, s.experimentJSON(r, e))
}

func (s *Server) deleteExperiments(w http.ResponseWriter, r *http.Request) error {
	var req api.IDs
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	ids, err := idList(req)
	if err != nil {
		return err
	}
	// Ids that are not UUIDs cannot name an experiment; they count as not deleted.
	valid := ids[:0:0]
	for _, id := range ids {
		if validUUID(id) {
			valid = append(valid, strings.ToLower(id))
		}
	}
	if err := keyPermits(keyFrom(r), opDelete); err != nil {
		return err
	}
	// Only runs in projects where the caller may delete are deleted; the
	// rest count as not deleted, as missing ones do.
	projects, err := s.visibleProjects(r, opDelete)
	if err != nil {
		return err
	}
	n := 0
	if len(valid) > 0 && len(projects) > 0 {
		if n, err = s.store.DeleteExperiments(r.Context(), projects, valid); err != nil {
			return err
		}
		s.revoke()
	}
	return writeJSON(w, http.StatusOK, api.Deleted{DeletedCount: n})
}

// deleteExperiment is the published client's delete, one id in the path:
// {"success": true} when it was deleted, 404 like any other route when the
// experiment is missing or another user's.
func (s *Server) deleteExperiment(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r, opDelete)
	if err != nil {
		return err
	}
	n, err := s.store.DeleteExperiments(r.Context(), []int64{e.ProjectID}, []string{e.ID})
	if err != nil {
		return err
	}
	s.revoke()
	return writeJSON(w, http.StatusOK, api.DeletedOne{Success: n == 1, DeletedCount: n})
}

func (s *Server) listExperiments(w http.ResponseWriter, r *http.Request) error {
	f, err := parseExperimentFilter(r.URL.Query())
	if err != nil {
		return err
	}
	if f.Projects, err = s.listedProjects(r); err != nil {
		return err
	}
	cols, err := parseMetricColumns(r.URL.Query())
	if err != nil {
		return err
	}
	f.WithoutConfig = true
	list, total, err := s.store.Experiments(r.Context(), f)
	if err != nil {
		return err
	}
	var last map[string]map[expt.MetricKey]float64
	if len(cols) > 0 {
		ids := make([]string, len(list))
		for i, e := range list {
			ids[i] = e.ID
		}
		if last, err = s.store.LastValues(r.Context(), ids, cols); err != nil {
			return err
		}
	}
	out := api.Experiments{Experiments: make([]api.ExperimentSummary, len(list)), Total: total}
	if n := len(list); n > 0 && n == f.Limit {
		out.Next = encodeExperimentCursor(list[n-1])
	}
	for i, e := range list {
		out.Experiments[i] = api.SummaryOf(e, s.experimentURL(r, e.ID))
		if len(cols) > 0 {
			out.Experiments[i].Metrics = map[string]api.Num{}
			for k, v := range last[e.ID] {
				out.Experiments[i].Metrics[k.Mode+"/"+k.Name] = api.Num(v)
			}
		}
	}
	return writeJSON(w, http.StatusOK, out)
}
