package http

import (
	"net/http"
	"strings"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/api"
)

// batchRequest reads what every batch write starts with, in the order that
// answers first what costs least: the Idempotency-Key header, the caller's
// experiment (404 before reading a body that would be thrown away), the body.
func (s *Server) batchRequest(w http.ResponseWriter, r *http.Request) (idem string, e *expt.Experiment, body []byte, err error) {
	if idem, err = idempotencyKey(r); err != nil {
		return "", nil, nil, err
	}
	if e, err = s.experiment(r, opWrite); err != nil {
		return "", nil, nil, err
	}
	if body, err = s.readBody(w, r); err != nil {
		return "", nil, nil, err
	}
	// Scoped to this endpoint (the last path element) and bound to the body.
	endpoint := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	return expt.IdempotencyKey(endpoint, idem, body), e, body, nil
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
	return writeJSON(w, http.StatusOK, api.Written{Accepted: len(batch), Replayed: !applied})
}

func (s *Server) getScalars(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r, opRead)
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
	return writeJSON(w, http.StatusOK, api.PointsOf(points))
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
	e, err := s.experiment(r, opRead)
	if err != nil {
		return err
	}
	metrics, err := s.metrics(r, e.ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.Metrics{Metrics: api.MetricsOf(metrics)})
}

func (s *Server) getSeries(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r, opRead)
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
	return writeJSON(w, http.StatusOK, api.SeriesOf(series, q.Mode, q.Name))
}
