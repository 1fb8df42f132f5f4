package http

import (
	"net/http"

	"github.com/expt-logger/expt"
)

type writeResponse struct {
	Accepted int     `json:"accepted"`
	IDs      []int64 `json:"ids,omitempty"`
	Replayed bool    `json:"replayed"`
}

// batchRequest reads what every batch write starts with, in the order that
// answers first what costs least: the Idempotency-Key header, the caller's
// experiment (404 before reading a body that would be thrown away), the body.
func (s *Server) batchRequest(w http.ResponseWriter, r *http.Request) (idem string, e *expt.Experiment, body []byte, err error) {
	if idem, err = idempotencyKey(r); err != nil {
		return "", nil, nil, err
	}
	if e, err = s.experiment(r); err != nil {
		return "", nil, nil, err
	}
	if body, err = s.readBody(w, r); err != nil {
		return "", nil, nil, err
	}
	return idem, e, body, nil
}

func (s *Server) writeScalars(w http.ResponseWriter, r *http.Request) error {
	idem, e, body, err := s.batchRequest(w, r)
	if err != nil {
		return err
	}
	batch, err := decodeScalars(body)
	if err != nil {
		return err
	}
	applied, err := s.store.WriteScalars(r.Context(), e.ID, batch, idem)
	if err != nil {
		return err
	}
	if applied && len(batch) > 0 {
		s.events.Publish(r.Context(), expt.Event{Type: expt.EventScalars, ExperimentID: e.ID, Scalars: batch})
	}
	return writeJSON(w, http.StatusOK, writeResponse{Accepted: len(batch), Replayed: !applied})
}

// pointJSON is one point of the original platform's scalar GET.
type pointJSON struct {
	Step  int64 `json:"step"`
	Value num   `json:"value"`
	TS    num   `json:"ts,omitempty"`
}

func (s *Server) getScalars(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r)
	if err != nil {
		return err
	}
	mode := r.URL.Query().Get("mode")
	if mode == "" {
		// The original client always asks for one mode; a name may exist in
		// several modes, so "all modes" would not fit this shape.
		mode = "train"
	}
	points, err := s.store.Scalars(r.Context(), e.ID, mode)
	if err != nil {
		return err
	}
	out := make(map[string][]pointJSON, len(points))
	for name, ps := range points {
		col := make([]pointJSON, len(ps))
		for i, p := range ps {
			col[i] = pointJSON{Step: p.Step, Value: num(p.Value), TS: num(p.TS)}
		}
		out[name] = col
	}
	return writeJSON(w, http.StatusOK, out)
}

// metrics lists an experiment's series, as [] rather than null when there are none.
func (s *Server) metrics(r *http.Request, id string) ([]expt.Metric, error) {
	metrics, err := s.store.Metrics(r.Context(), id)
	if metrics == nil && err == nil {
		metrics = []expt.Metric{}
	}
	return metrics, err
}

func (s *Server) getMetrics(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r)
	if err != nil {
		return err
	}
	metrics, err := s.metrics(r, e.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"metrics": metrics})
}

// seriesJSON is a series as aligned columns, the shape uPlot draws.
type seriesJSON struct {
	Mode        string  `json:"mode"`
	Name        string  `json:"name"`
	Total       int64   `json:"total"`
	Downsampled bool    `json:"downsampled"`
	Step        []int64 `json:"step"`
	Value       []num   `json:"value"`
	Min         []num   `json:"min"`
	MinStep     []int64 `json:"minStep"`
	Max         []num   `json:"max"`
	MaxStep     []int64 `json:"maxStep"`
	TS          []num   `json:"ts"`
}

func (s *Server) getSeries(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r)
	if err != nil {
		return err
	}
	q, err := parseSeriesQuery(r.URL.Query())
	if err != nil {
		return err
	}
	q.ExperimentID = e.ID
	series, err := s.store.Series(r.Context(), q)
	if err != nil {
		return err
	}
	n := len(series.Buckets)
	out := seriesJSON{
		Mode: series.Mode, Name: series.Name, Total: series.Total, Downsampled: series.Downsampled,
		Step: make([]int64, n), Value: make([]num, n), Min: make([]num, n), MinStep: make([]int64, n),
		Max: make([]num, n), MaxStep: make([]int64, n), TS: make([]num, n),
	}
	if out.Mode == "" {
		out.Mode, out.Name = q.Mode, q.Name
	}
	for i, b := range series.Buckets {
		out.Step[i], out.Value[i] = b.LastStep, num(b.Last)
		out.Min[i], out.MinStep[i] = num(b.Min), b.MinStep
		out.Max[i], out.MaxStep[i] = num(b.Max), b.MaxStep
		out.TS[i] = num(b.LastTS)
	}
	return writeJSON(w, http.StatusOK, out)
}
