package http

import (
	"context"
	"net/http"
	"time"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/api"
)

// DefaultCrashAfter is how long an active run's heartbeat may be silent
// before the server marks it crashed. The SDK beats once a minute, so
// this allows a few lost beats (a proxy's hiccup, a busy host).
const DefaultCrashAfter = 5 * time.Minute

// heartbeat is the SDK saying its process is alive. It takes no body.
func (s *Server) heartbeat(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r, opWrite)
	if err != nil {
		return err
	}
	e, revived, err := s.store.Heartbeat(r.Context(), e.ID, s.now())
	if err != nil {
		return err
	}
	if revived {
		s.events.Publish(r.Context(), expt.Event{Type: expt.EventExperiment, ExperimentID: e.ID, Experiment: e})
	}
	return writeJSON(w, http.StatusOK, api.Heartbeat{Status: e.Status})
}

// sweepCrashed marks crashed, every tick, the active runs whose heartbeat
// has been silent for crashAfter, and tells their watchers. Every replica
// runs it; the UPDATE makes a run crashed once whoever gets there first.
func (s *Server) sweepCrashed(crashAfter time.Duration) {
	tick := min(crashAfter/4, 30*time.Second)
	t := time.NewTicker(max(tick, 100*time.Millisecond))
	defer t.Stop()
	for {
		select {
		case <-s.done:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		list, err := s.store.MarkCrashed(ctx, s.now().Add(-crashAfter))
		if err != nil {
			s.logger.Warn("mark crashed runs", "err", err)
		}
		for _, e := range list {
			s.logger.Info("run crashed: its heartbeat stopped", "experiment", e.ID, "silent", crashAfter)
			s.events.Publish(ctx, expt.Event{Type: expt.EventExperiment, ExperimentID: e.ID, Experiment: e})
		}
		cancel()
	}
}
