package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/api"
)

// keepAlive is how often an idle stream sends a comment so that proxies do
// not close it.
var keepAlive = 15 * time.Second

// eventData is the JSON of one event's data line.
func eventData(e expt.Event) ([]byte, error) {
	switch e.Type {
	case expt.EventScalars:
		return json.Marshal(api.ScalarsEvent{Scalars: api.ScalarEventsOf(e.Scalars)})
	case expt.EventRollouts:
		return json.Marshal(api.RolloutsEvent{Rollouts: api.RolloutsOf(e.Rollouts)})
	case expt.EventExperiment:
		return json.Marshal(api.ExperimentEvent{Experiment: api.InfoOf(e.Experiment)})
	}
	return nil, fmt.Errorf("unknown event type %q", e.Type)
}

// streamEvents is the Server-Sent Events stream of one experiment. It ends
// when the client goes away, when the subscriber falls too far behind (the
// client reconnects and refetches), or when the server closes.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r)
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	// Subscribe before answering so that anything written after the client
	// sees the response headers is on this stream.
	events, cancel := s.events.Subscribe(e.ID)
	defer cancel()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, ": connected\n\n"); err != nil {
		return nil
	}
	if err := rc.Flush(); err != nil {
		return nil
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-s.done:
			return nil
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return nil
			}
		case ev, ok := <-events:
			if !ok {
				return nil // dropped for being slow
			}
			data, err := eventData(ev)
			if err != nil {
				// The headers are out; log and skip rather than answer twice.
				s.logger.Error("encode event", "experiment", e.ID, "err", err)
				continue
			}
			if _, err := fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Type, data); err != nil {
				return nil
			}
		}
		if err := rc.Flush(); err != nil {
			return nil
		}
	}
}
