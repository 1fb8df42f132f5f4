// Package http serves the expt-logger HTTP API, its live event streams and
// the embedded web UI. Callers import it as exhttp; cmd/expt wires it to a
// store with NewServer.
package http

import (
	"cmp"
	"io/fs"
	"log/slog"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/expt-logger/expt"
)

// DefaultMaxBodyBytes bounds a decompressed request body when Config leaves it 0.
const DefaultMaxBodyBytes = 32 << 20

// Config is what NewServer needs.
type Config struct {
	Store        expt.Store
	Events       expt.EventBus // nil: NewEventBus()
	PublicURL    string        // base URL put into experiment links; "" = derive from the request
	MaxBodyBytes int64         // decompressed request body limit; 0 = 32 MiB
	Logger       *slog.Logger
	UI           fs.FS // the built web UI; nil serves a short placeholder page
	// BodyReadTimeout is how long a request body may take to arrive; 0 =
	// DefaultBodyReadTimeout.
	BodyReadTimeout time.Duration
	// InflightBodyBytes bounds the request bodies held in memory at once,
	// all requests together; 0 = DefaultInflightBodyBytes(MaxBodyBytes).
	InflightBodyBytes int64
	// StreamWriteTimeout is how long one write to a live watcher may stall
	// before the watcher is dropped; 0 = DefaultStreamWriteTimeout.
	StreamWriteTimeout time.Duration
	// Throttle limits failed sign-ins; nil uses one in this process, which is
	// right for a single server but not for replicas sharing a database.
	Throttle expt.Throttle
	// SignUp is who may make an account in the browser: SignUpOpen
	// (anyone; the default), SignUpInvite (only emails a project owner or
	// the admin added) or SignUpClosed (accounts come from `expt users create`).
	SignUp string
	// CrashAfter is how long an active run's heartbeat may be silent before
	// it is marked crashed; 0 = DefaultCrashAfter, negative = never.
	CrashAfter time.Duration
}

// Sign-up policies.
const (
	SignUpOpen   = "open"
	SignUpInvite = "invite"
	SignUpClosed = "closed"
)

// Server is the http.Handler of the API and the UI.
type Server struct {
	store        expt.Store
	events       expt.EventBus
	publicURL    string
	maxBody      int64
	logger       *slog.Logger
	ui           fs.FS
	mux          *http.ServeMux
	throttle     expt.Throttle
	now          func() time.Time
	signUpPolicy string

	bodies        *bodyBudget
	hashing       chan struct{} // a token per password hash being computed
	exports       chan struct{} // a token per export being streamed
	bodyTimeout   time.Duration
	streamTimeout time.Duration

	// done is closed by Close so that live streams end and
	// http.Server.Shutdown does not wait for them.
	done      chan struct{}
	closeOnce sync.Once

	// storageFullAt is when a write last failed for a full disk (Unix
	// nanoseconds), 0 after a write succeeded since: /api/health reports
	// degraded meanwhile.
	storageFullAt atomic.Int64

	revokeMu sync.Mutex
	revoked  chan struct{} // closed and replaced by revoke
}

// NewServer returns the handler for cfg.
func NewServer(cfg Config) *Server {
	s := &Server{
		store:        cfg.Store,
		events:       cfg.Events,
		publicURL:    cfg.PublicURL,
		maxBody:      cfg.MaxBodyBytes,
		logger:       cfg.Logger,
		ui:           cfg.UI,
		mux:          http.NewServeMux(),
		throttle:     cfg.Throttle,
		now:          time.Now,
		signUpPolicy: cmp.Or(cfg.SignUp, SignUpOpen),
		done:         make(chan struct{}),
		revoked:      make(chan struct{}),
	}
	if s.events == nil {
		s.events = newEventBus(cfg.Logger)
	}
	if s.throttle == nil {
		s.throttle = newThrottle(expt.SignInMaxFailures, expt.SignInWindow)
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	// Half the cores for password hashing: the other half stays with
	// authenticated requests whatever sign-ins arrive.
	s.hashing = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)/2))
	s.exports = make(chan struct{}, exportSlots)
	s.streamTimeout = cmp.Or(cfg.StreamWriteTimeout, DefaultStreamWriteTimeout)
	s.bodyTimeout = cmp.Or(cfg.BodyReadTimeout, DefaultBodyReadTimeout)
	// A gzip decoder per core is enough to keep them busy.
	s.bodies = newBodyBudget(cmp.Or(cfg.InflightBodyBytes, DefaultInflightBodyBytes(s.maxBody)), max(2, runtime.GOMAXPROCS(0)))
	// paths knows every pattern without its method, to tell a wrong method
	// (405) from a wrong path (404).
	paths := http.NewServeMux()
	allowed := map[string][]string{}
	for _, rt := range s.routes() {
		s.mux.Handle(rt.Method+" "+rt.Pattern, s.wrap(rt))
		if allowed[rt.Pattern] == nil {
			paths.Handle(rt.Pattern, http.NotFoundHandler())
		}
		allowed[rt.Pattern] = append(allowed[rt.Pattern], rt.Method)
	}
	// Anything else under /api is a JSON error, never the UI's page.
	s.mux.Handle("/api/", s.wrap(route{h: func(w http.ResponseWriter, r *http.Request) error {
		if _, pattern := paths.Handler(r); pattern != "" {
			methods := strings.Join(allowed[pattern], ", ")
			w.Header().Set("Allow", methods)
			return expt.Errorf(codeMethodNotAllowed, "%s is not allowed here; use %s", r.Method, methods)
		}
		return expt.Errorf(expt.ENOTFOUND, "no route %s %s", r.Method, r.URL.Path)
	}}))
	// Method-less like /api/ above: a "GET /" pattern would conflict with it.
	s.mux.HandleFunc("/", s.serveUI)
	if crashAfter := cmp.Or(cfg.CrashAfter, DefaultCrashAfter); crashAfter > 0 && s.store != nil {
		go s.sweepCrashed(crashAfter)
	}
	return s
}

// ServeHTTP sets the headers every response carries and recovers panics.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			s.logger.Error("panic in handler", "method", r.Method, "path", r.URL.Path, "panic", v)
			writeError(w, expt.Errorf(expt.EINTERNAL, "internal error"))
		}
	}()
	s.mux.ServeHTTP(w, r)
}

// Close ends every live event stream. It does not close the store.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.done) })
}
