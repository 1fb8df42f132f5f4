package http

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
	"unsafe"

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

// Live-stream bounds: how long one write to a watcher may take before it is
// dropped, and how often an open stream checks that its credentials and
// experiment still stand (revocations on this server wake it at once).
const (
	DefaultStreamWriteTimeout = 10 * time.Second
	streamRecheck             = 2 * time.Second
)

// streamEvents is the Server-Sent Events stream of one experiment. Each
// event carries an id; a client that reconnects with Last-Event-ID gets
// what it missed, or a "reset" event when that is no longer kept (refetch).
// It ends when the client goes away or stops reading (a write that takes
// longer than the stream write timeout), when it falls too far behind, when its
// key is revoked, its session ends, its experiment is deleted or it loses
// access, and when the server closes.
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) error {
	// Taken before access is first checked: a revocation from then on is
	// seen, however the steps below interleave with it.
	revoked := s.revocations()
	e, err := s.experiment(r, opRead)
	if err != nil {
		return err
	}
	rc := http.NewResponseController(w)
	// Subscribe before answering so that anything written after the client
	// sees the response headers is on this stream.
	sub := s.events.Subscribe(e.ID, r.Header.Get("Last-Event-ID"))
	defer sub.Cancel()

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	write := func(frame ...string) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(s.streamTimeout))
		for _, f := range frame {
			if _, err := io.WriteString(w, f); err != nil {
				return false
			}
		}
		return rc.Flush() == nil
	}
	hello := ": connected\n\n"
	if !sub.Resumed {
		hello += "event: reset\ndata: {}\n\n"
	}
	if !write(hello) {
		return nil
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	recheck := time.NewTicker(streamRecheck)
	defer recheck.Stop()
	// recheck takes the next revocation signal before checking, so that one
	// arriving during the check is not missed.
	recheckNow := func() bool {
		revoked = s.revocations()
		return s.streamAllowed(r, e)
	}
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-s.done:
			return nil
		case <-revoked:
			if !recheckNow() {
				return nil
			}
		case <-recheck.C:
			if !recheckNow() {
				return nil
			}
		case <-tick.C:
			if !write(": keep-alive\n\n") {
				return nil
			}
		case d, ok := <-sub.Events:
			if !ok {
				return nil // dropped for being slow; the client resumes with Last-Event-ID
			}
			// A revocation answered before this event was written must win
			// over it, whichever the select happened to pick.
			select {
			case <-revoked:
				if !recheckNow() {
					return nil
				}
			default:
			}
			if !write("id: ", d.ID, "\nevent: ", d.Event.Type, "\ndata: ", unsafeString(d.Data), "\n\n") {
				return nil
			}
		}
	}
}

// streamAllowed reports whether the stream's caller may still watch e: its
// key or session still signs it in as the same user, who may still read
// e (still a member of its project, and it still exists).
func (s *Server) streamAllowed(r *http.Request, e *expt.Experiment) bool {
	ctx, err := s.authenticate(r)
	if err != nil {
		return false
	}
	u, _ := ctx.Value(userKey).(*expt.User)
	if u == nil || u.ID != userFrom(r).ID {
		return false
	}
	_, err = s.experimentByID(r.WithContext(ctx), e.ID, opRead)
	return err == nil
}

// revocations returns a channel closed at the next revocation on this
// server (a key deleted, a session ended, an experiment deleted), so that
// open streams check their access at once rather than at the next tick.
func (s *Server) revocations() <-chan struct{} {
	s.revokeMu.Lock()
	defer s.revokeMu.Unlock()
	return s.revoked
}

// revoke wakes every open stream to check its access.
func (s *Server) revoke() {
	s.revokeMu.Lock()
	defer s.revokeMu.Unlock()
	close(s.revoked)
	s.revoked = make(chan struct{})
}

// unsafeString views b as a string for writing without copying it: a
// 16 MB event must not be copied once per watcher.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
