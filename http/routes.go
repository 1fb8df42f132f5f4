package http

import (
	"net/http"
	"strings"
	"time"

	"github.com/expt-logger/expt/api"
)

// Auth requirements of a route.
const (
	public = iota // anyone
	authed        // an API key or a session cookie
)

// route is one entry of the route table.
type route struct {
	Method  string
	Pattern string // net/http pattern without the method
	auth    int
	h       apiFunc
}

// Route names one registered API route, for the contract test.
type Route struct {
	Method  string
	Pattern string
}

// routes is the whole API in one table. Patterns use {id} the way OpenAPI
// does, so api/openapi.yaml is compared with them literally.
func (s *Server) routes() []route {
	return []route{
		{"GET", "/api/health", public, s.health},

		{"POST", "/api/auth/sign-up/email", public, s.signUp},
		{"POST", "/api/auth/sign-in/email", public, s.signIn},
		{"POST", "/api/auth/sign-out", public, s.signOut},
		{"GET", "/api/me", authed, s.me},

		{"POST", "/api/api-keys", authed, s.createAPIKey},
		{"GET", "/api/api-keys", authed, s.listAPIKeys},
		{"DELETE", "/api/api-keys", authed, s.deleteAPIKeys},
		{"DELETE", "/api/api-keys/{id}", authed, s.deleteAPIKey},

		{"GET", "/api/projects", authed, s.listProjects},
		{"POST", "/api/projects", authed, s.createProject},
		{"GET", "/api/projects/{id}", authed, s.getProject},
		{"PATCH", "/api/projects/{id}", authed, s.updateProject},
		{"DELETE", "/api/projects/{id}", authed, s.deleteProject},
		{"GET", "/api/projects/{id}/members", authed, s.listMembers},
		{"POST", "/api/projects/{id}/members", authed, s.addMember},
		{"PATCH", "/api/projects/{id}/members/{userId}", authed, s.updateMember},
		{"DELETE", "/api/projects/{id}/members/{userId}", authed, s.removeMember},

		{"POST", "/api/experiments", authed, s.createExperiment},
		{"GET", "/api/experiments", authed, s.listExperiments},
		{"PUT", "/api/experiments", authed, s.updateExperimentLegacy},
		{"DELETE", "/api/experiments", authed, s.deleteExperiments},
		{"GET", "/api/experiments/{id}", authed, s.getExperiment},
		{"DELETE", "/api/experiments/{id}", authed, s.deleteExperiment},
		{"PUT", "/api/experiments/{id}", authed, s.updateExperiment},
		{"GET", "/api/experiments/{id}/details", authed, s.experimentDetails},

		{"POST", "/api/experiments/{id}/scalars", authed, s.writeScalars},
		{"GET", "/api/experiments/{id}/scalars", authed, s.getScalars},
		{"GET", "/api/experiments/{id}/series", authed, s.getSeries},
		{"GET", "/api/experiments/{id}/metrics", authed, s.getMetrics},

		{"POST", "/api/experiments/{id}/rollouts", authed, s.writeRollouts},
		{"GET", "/api/experiments/{id}/rollouts", authed, s.listRollouts},
		{"GET", "/api/experiments/{id}/rollouts/{rolloutId}", authed, s.getRollout},
		{"GET", "/api/experiments/{id}/rollouts/groups", authed, s.rolloutGroups},
		{"GET", "/api/experiments/{id}/rollouts/summary", authed, s.rolloutSummary},
		{"GET", "/api/experiments/{id}/rollouts/steps", authed, s.rolloutSteps},
		{"GET", "/api/experiments/{id}/rewards", authed, s.stepRewards},
		{"GET", "/api/experiments/{id}/rewards/distribution", authed, s.rewardDistribution},
		{"GET", "/api/experiments/{id}/rollouts/lengths", authed, s.lengthDistribution},

		{"POST", "/api/experiments/{id}/errors", authed, s.writeErrors},
		{"GET", "/api/experiments/{id}/errors", authed, s.listErrors},
		{"POST", "/api/experiments/{id}/env-logs", authed, s.writeEnvLogs},
		{"GET", "/api/experiments/{id}/env-logs", authed, s.listEnvLogs},

		{"GET", "/api/experiments/{id}/export/scalars", authed, s.exportScalars},
		{"GET", "/api/experiments/{id}/export/rollouts", authed, s.exportRollouts},
		{"GET", "/api/experiments/{id}/summary", authed, s.experimentSummary},
		{"GET", "/api/export/scalars", authed, s.exportSetScalars},
		{"GET", "/api/export/rollouts", authed, s.exportSetRollouts},

		{"GET", "/api/experiments/{id}/events", authed, s.streamEvents},
		{"POST", "/api/experiments/{id}/heartbeat", authed, s.heartbeat},
	}
}

// Routes lists the method and pattern of every API route.
func Routes() []Route {
	var out []Route
	for _, rt := range (&Server{}).routes() {
		out = append(out, Route{Method: rt.Method, Pattern: rt.Pattern})
	}
	return out
}

// wrap authenticates the request when the route needs it and turns the
// handler's error into a response.
func (s *Server) wrap(rt route) http.Handler {
	limit := s.maxBody
	if rt.auth == public {
		limit = min(limit, authMaxBody)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r, done := withBodyAccount(r, s.bodies, limit)
		defer done()
		if rt.auth == authed {
			ctx, err := s.authenticate(r)
			if err != nil {
				s.handleError(w, r, err)
				return
			}
			r = r.WithContext(ctx)
		}
		// A NUL is never a meaningful parameter, and PostgreSQL cannot
		// take one in text (SQLite's full-text parser chokes on it too):
		// refuse it here rather than as a 500 from the store.
		if strings.Contains(r.URL.RawQuery, "%00") || strings.ContainsRune(r.URL.Path, 0) {
			s.handleError(w, r, invalid("the URL must not contain NUL (%%00)"))
			return
		}
		if err := rt.h(w, r); err != nil {
			s.handleError(w, r, err)
		} else if r.Method != http.MethodGet {
			s.storageFullAt.Store(0) // a write went through: storage works again
		}
	})
}

// storageFullFor is how long after a write failed for a full disk
// /api/health still reports degraded when no write has succeeded since.
const storageFullFor = time.Minute

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	if err := s.store.Ping(r.Context()); err != nil {
		return err
	}
	if at := s.storageFullAt.Load(); at != 0 && s.now().Sub(time.Unix(0, at)) < storageFullFor {
		return writeJSON(w, http.StatusOK, api.Health{Status: "degraded",
			Problem: "storage full: writes are refused (507) until space is freed on the database's disk"})
	}
	return writeJSON(w, http.StatusOK, api.Health{Status: "ok"})
}
