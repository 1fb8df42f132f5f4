package http

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/api"
	"github.com/expt-logger/expt/export"
)

// maxExportSet bounds how many experiments one export of a filtered set
// names: each costs a query or two before the first row.
const maxExportSet = 10_000

// exportSlots is how many exports run at once per server: each holds a
// core and a few megabytes while the client reads; past it a caller is
// answered 503 and told to retry.
const exportSlots = 4

func (s *Server) exportScalars(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r, opRead)
	if err != nil {
		return err
	}
	return s.streamScalars(w, r, []string{e.ID}, e.ID+"-scalars")
}

func (s *Server) exportRollouts(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r, opRead)
	if err != nil {
		return err
	}
	return s.streamRollouts(w, r, []string{e.ID}, e.ID+"-rollouts")
}

func (s *Server) exportSetScalars(w http.ResponseWriter, r *http.Request) error {
	ids, err := s.exportSet(r)
	if err != nil {
		return err
	}
	return s.streamScalars(w, r, ids, "scalars")
}

func (s *Server) exportSetRollouts(w http.ResponseWriter, r *http.Request) error {
	ids, err := s.exportSet(r)
	if err != nil {
		return err
	}
	return s.streamRollouts(w, r, ids, "rollouts")
}

// exportSet resolves the experiments of a set export: those named by
// experiment= (each one the caller may read, else 404), or every
// experiment the caller may read that matches project, status, tag, name
// and config, oldest first.
func (s *Server) exportSet(r *http.Request) ([]string, error) {
	q := r.URL.Query()
	if named := q["experiment"]; len(named) > 0 {
		if len(named) > maxExportSet {
			return nil, invalid("experiment: at most %d", maxExportSet)
		}
		ids := make([]string, 0, len(named))
		seen := map[string]bool{}
		for _, id := range named {
			e, err := s.experimentByID(r, id, opRead)
			if err != nil {
				return nil, err
			}
			if !seen[e.ID] {
				seen[e.ID] = true
				ids = append(ids, e.ID)
			}
		}
		return ids, nil
	}
	// Here q is the rollouts' full-text search: the name substring is name=.
	f, err := parseExperimentConditions(q, "name")
	if err != nil {
		return nil, err
	}
	f.Sort, f.WithoutConfig = expt.SortCreated, true
	projects, err := s.listedProjects(r)
	if err != nil {
		return nil, err
	}
	f.Projects, f.Limit = projects, maxPageLimit
	var ids []string
	for {
		page, total, err := s.store.Experiments(r.Context(), f)
		if err != nil {
			return nil, err
		}
		if total > maxExportSet {
			return nil, invalid("the filter matches %d experiments, more than %d: narrow it", total, maxExportSet)
		}
		for _, e := range page {
			ids = append(ids, e.ID)
		}
		if len(page) < f.Limit {
			return ids, nil
		}
		f.After = page[len(page)-1]
	}
}

// listedProjects is the projects a list reads: project= (a project id or
// name the caller may read, else 404), or every one the caller may read.
func (s *Server) listedProjects(r *http.Request) ([]int64, error) {
	raw := r.URL.Query().Get("project")
	if raw == "" {
		if err := keyPermits(keyFrom(r), opRead); err != nil {
			return nil, err
		}
		return s.visibleProjects(r, opRead)
	}
	p, err := s.projectNamed(r, raw)
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(r, p, opRead, expt.Errorf(expt.ENOTFOUND, "project %q not found", raw)); err != nil {
		return nil, err
	}
	return []int64{p}, nil
}

// projectNamed resolves project= as a project id or name to an id; a name
// that does not exist is ENOTFOUND, like a project the caller may not see.
func (s *Server) projectNamed(r *http.Request, raw string) (int64, error) {
	if id, err := strconv.ParseInt(raw, 10, 64); err == nil {
		if id <= 0 {
			return 0, invalid("project: must be a project id or name")
		}
		return id, nil
	}
	p, err := s.store.ProjectByName(r.Context(), raw)
	if err != nil {
		return 0, err
	}
	return p.ID, nil
}

// exportParams reads what every export takes: the format and the steps.
func exportParams(q url.Values) (f export.Format, from, to *int64, err error) {
	if f, err = export.ParseFormat(q.Get("format")); err != nil {
		return "", nil, nil, invalid("%v", err)
	}
	from, to, err = stepRange(q)
	return f, from, to, err
}

func (s *Server) streamScalars(w http.ResponseWriter, r *http.Request, ids []string, base string) error {
	q := r.URL.Query()
	f, from, to, err := exportParams(q)
	if err != nil {
		return err
	}
	sq := export.Scalars{Experiments: ids, Mode: q.Get("mode"), FromStep: from, ToStep: to}
	switch q.Get("shape") {
	case "", "long":
	case "wide":
		sq.Wide = true
	default:
		return invalid(`shape: must be "long" or "wide"`)
	}
	for _, k := range q["key"] {
		mode, name, ok := strings.Cut(k, "/")
		if !ok || mode == "" || name == "" {
			return invalid("key: %q is not mode/name (train/loss)", k)
		}
		sq.Keys = append(sq.Keys, expt.MetricKey{Mode: mode, Name: name})
	}
	if sq.Wide {
		// Listed before the first byte, so that too many is still an error answer.
		if sq.Columns, err = export.WideColumns(r.Context(), s.store, sq); err != nil {
			return err
		}
	}
	return s.stream(w, r, f, base, func(out *exportWriter) error {
		return export.WriteScalars(r.Context(), s.store, sq, f, out, nil)
	})
}

func (s *Server) streamRollouts(w http.ResponseWriter, r *http.Request, ids []string, base string) error {
	q := r.URL.Query()
	f, from, to, err := exportParams(q)
	if err != nil {
		return err
	}
	step, err := stepParam(q, "step")
	if err != nil {
		return err
	}
	rq := export.Rollouts{Experiments: ids, Mode: q.Get("mode"), Step: step, FromStep: from, ToStep: to, Search: strings.TrimSpace(q.Get("q"))}
	return s.stream(w, r, f, base, func(out *exportWriter) error {
		return export.WriteRollouts(r.Context(), s.store, rq, f, out, nil)
	})
}

// stream answers with a file written by write as it is produced. Until
// the first byte an error is still an ordinary error answer; after it,
// the connection is cut without the response's last chunk, so the client
// sees a truncated transfer rather than a file that looks whole.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, f export.Format, base string, write func(*exportWriter) error) error {
	select {
	case s.exports <- struct{}{}:
		defer func() { <-s.exports }()
	default:
		w.Header().Set("Retry-After", "5")
		return expt.Errorf(expt.EUNAVAILABLE, "too many exports at once; retry in a few seconds")
	}
	h := w.Header()
	h.Set("Content-Type", f.ContentType())
	h.Set("Content-Disposition", f.Disposition(base))
	h.Set("Cache-Control", "no-store")
	out := &exportWriter{w: w, rc: http.NewResponseController(w), timeout: s.streamTimeout}
	err := write(out)
	if err == nil {
		return nil
	}
	if !out.started {
		h.Del("Content-Disposition") // the answer is a JSON error, not the file
		h.Del("Cache-Control")
		return err
	}
	if !errors.Is(err, errClientGone) && r.Context().Err() == nil {
		s.logger.Error("export cut short", "path", r.URL.Path, "err", err)
	}
	panic(http.ErrAbortHandler)
}

var errClientGone = errors.New("export: the client stopped reading")

// exportWriter is the response as an export's output: each write must
// go through within the stream timeout, so a client that stops reading
// does not hold the export (and its database reads) open.
type exportWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	timeout time.Duration
	started bool
}

func (e *exportWriter) Write(p []byte) (int, error) {
	e.started = true
	_ = e.rc.SetWriteDeadline(time.Now().Add(e.timeout))
	n, err := e.w.Write(p)
	if err != nil {
		return n, errClientGone
	}
	return n, nil
}

// experimentSummary answers each metric's value at its latest step, as
// "mode/name": what W&B calls a run's summary.
func (s *Server) experimentSummary(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r, opRead)
	if err != nil {
		return err
	}
	ms, err := s.store.Metrics(r.Context(), e.ID)
	if err != nil {
		return err
	}
	keys := make([]expt.MetricKey, len(ms))
	for i, m := range ms {
		keys[i] = expt.MetricKey{Mode: m.Mode, Name: m.Name}
	}
	out := api.Summary{Summary: map[string]api.SummaryValue{}}
	if len(keys) > 0 {
		last, err := s.store.LastValues(r.Context(), []string{e.ID}, keys)
		if err != nil {
			return err
		}
		for i, m := range ms {
			if v, ok := last[e.ID][keys[i]]; ok {
				out.Summary[m.Mode+"/"+m.Name] = api.SummaryValue{Value: api.Num(v), Step: m.LastStep, Count: m.Count}
			}
		}
	}
	return writeJSON(w, http.StatusOK, out)
}
