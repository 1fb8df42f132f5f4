package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/expt-logger/expt"
	exhttp "github.com/expt-logger/expt/http"
	"github.com/expt-logger/expt/ui"
)

// serveConfig is everything `expt serve` is told by flags and environment.
type serveConfig struct {
	storeFlags
	Addr      string
	PublicURL string
	MaxBody   int64
	// BodyTimeout is how long a request body may take to arrive.
	BodyTimeout time.Duration
	// InflightBody bounds the request bodies in memory at once; 0 = the default.
	InflightBody int64
	// StreamTimeout is how long a write to a live watcher may stall.
	StreamTimeout time.Duration
	LogFormat     string
	// RateLimit is the writes per second allowed per API key or session
	// (bursts of ten seconds' worth); 0 = no limit.
	RateLimit float64
	// ShutdownTimeout bounds how long in-flight requests may take to finish
	// after SIGTERM before their connections are closed.
	ShutdownTimeout time.Duration
	// SignUp is who may make an account in the browser: open, invite or closed.
	SignUp string
	// CrashAfter is how long an active run's heartbeat may be silent before
	// the run is marked crashed.
	CrashAfter time.Duration
}

const defaultMaxBody = 32 << 20

func parseServeFlags(args []string, stderr io.Writer) (*serveConfig, error) {
	c := &serveConfig{}
	env := envFlags{}
	fs := flag.NewFlagSet("expt serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.Addr, "addr", "127.0.0.1:8080", "address to listen on; host:0 picks a free port")
	fs.StringVar(&c.PublicURL, "public-url", "", "URL users reach the server at, used in links (default: from each request's Host)")
	fs.Int64Var(&c.MaxBody, "max-body", defaultMaxBody, "largest request body in bytes, after decompression")
	fs.DurationVar(&c.BodyTimeout, "body-timeout", exhttp.DefaultBodyReadTimeout, "how long a request body may take to arrive before the connection is cut")
	fs.Int64Var(&c.InflightBody, "max-inflight-body", 0, "request-body bytes held in memory at once, all requests together; past it requests get 503 (default: max(128 MiB, 4 x --max-body))")
	fs.DurationVar(&c.StreamTimeout, "stream-timeout", exhttp.DefaultStreamWriteTimeout, "how long a write to a live-stream watcher may stall before the watcher is dropped")
	fs.Float64Var(&c.RateLimit, "rate-limit", 0, "writes per second allowed per API key or session, in bursts of ten seconds' worth; 0 = no limit")
	fs.StringVar(&c.LogFormat, "log-format", "text", "log format on stderr: text or json")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", 15*time.Second, "how long requests may finish after SIGINT/SIGTERM")
	fs.StringVar(&c.SignUp, "signup", exhttp.SignUpOpen, "who may make an account in the browser: open (anyone), invite (emails a project owner or the admin added) or closed (accounts from expt users create)")
	fs.DurationVar(&c.CrashAfter, "crash-after", exhttp.DefaultCrashAfter, "mark an active run crashed when its SDK heartbeat has been silent this long")
	c.storeFlags.register(fs, env)
	env["signup"] = "EXPT_SIGNUP"
	env["crash-after"] = "EXPT_CRASH_AFTER"
	env["addr"] = "EXPT_ADDR"
	env["public-url"] = "EXPT_PUBLIC_URL"
	env["max-body"] = "EXPT_MAX_BODY"
	env["log-format"] = "EXPT_LOG_FORMAT"
	env["body-timeout"] = "EXPT_BODY_TIMEOUT"
	env["stream-timeout"] = "EXPT_STREAM_TIMEOUT"
	env["max-inflight-body"] = "EXPT_MAX_INFLIGHT_BODY"
	env["rate-limit"] = "EXPT_RATE_LIMIT"
	env.describe(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("serve: unexpected argument %q", fs.Arg(0))
	}
	if err := env.apply(fs); err != nil {
		return nil, err
	}
	if c.MaxBody <= 0 {
		return nil, fmt.Errorf("--max-body must be positive, got %d", c.MaxBody)
	}
	if c.StreamTimeout <= 0 {
		return nil, fmt.Errorf("--stream-timeout must be positive, got %v", c.StreamTimeout)
	}
	if c.BodyTimeout <= 0 {
		return nil, fmt.Errorf("--body-timeout must be positive, got %v", c.BodyTimeout)
	}
	if c.InflightBody < 0 || (c.InflightBody > 0 && c.InflightBody < c.MaxBody) {
		return nil, fmt.Errorf("--max-inflight-body must be 0 (default) or at least --max-body (%d), got %d", c.MaxBody, c.InflightBody)
	}
	if c.RateLimit < 0 || c.RateLimit != c.RateLimit {
		return nil, fmt.Errorf("--rate-limit must be 0 (off) or a positive number of writes per second, got %v", c.RateLimit)
	}
	if c.CrashAfter <= 0 {
		return nil, fmt.Errorf("--crash-after must be positive, got %v", c.CrashAfter)
	}
	switch c.SignUp {
	case exhttp.SignUpOpen, exhttp.SignUpInvite, exhttp.SignUpClosed:
	default:
		return nil, fmt.Errorf("--signup must be open, invite or closed, got %q", c.SignUp)
	}
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return nil, fmt.Errorf("--log-format must be text or json, got %q", c.LogFormat)
	}
	return c, nil
}

func runServe(ctx context.Context, args []string, stderr io.Writer) error {
	c, err := parseServeFlags(args, stderr)
	if err != nil {
		return err
	}
	s := &server{cfg: c, logger: newLogger(c.LogFormat, stderr)}
	if err := s.open(ctx); err != nil {
		return err
	}
	// Tests and scripts wait for exactly this line, so it goes out unformatted
	// and only once the socket accepts connections.
	fmt.Fprintf(stderr, "expt listening on http://%s\n", s.ln.Addr())

	var serveErr error
	select {
	case <-ctx.Done():
		s.logger.Info("shutting down", "timeout", c.ShutdownTimeout)
	case serveErr = <-s.errc:
	}
	return errors.Join(serveErr, s.close())
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// server is a running `expt serve`: the store, the API handler and the
// listening HTTP server, opened and closed in that order and the reverse.
type server struct {
	cfg     *serveConfig
	logger  *slog.Logger
	store   expt.Store
	shared  expt.Shared // what replicas on the same database share (PostgreSQL)
	handler *exhttp.Server
	http    *http.Server
	ln      net.Listener
	errc    chan error // receives http.Server.Serve's error if it ends on its own
}

func (s *server) open(ctx context.Context) error {
	store, path, err := s.cfg.open(ctx)
	if err != nil {
		return err
	}
	s.store = store
	local := exhttp.NewEventBus()
	if s.shared, err = store.Shared(ctx, local); err != nil {
		store.Close()
		return err
	}
	events := s.shared.Events
	if events == nil {
		events = local
	}
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		if s.shared.Close != nil {
			s.shared.Close()
		}
		store.Close()
		return fmt.Errorf("listen: %w", err)
	}
	s.ln = ln
	s.handler = exhttp.NewServer(exhttp.Config{
		Store:              store,
		Events:             events,
		PublicURL:          s.cfg.PublicURL, // empty: links use the request's host
		MaxBodyBytes:       s.cfg.MaxBody,
		BodyReadTimeout:    s.cfg.BodyTimeout,
		InflightBodyBytes:  s.cfg.InflightBody,
		StreamWriteTimeout: s.cfg.StreamTimeout,
		Logger:             s.logger,
		UI:                 ui.FS(),
		Throttle:           s.shared.Throttle, // nil: the in-process one
		SignUp:             s.cfg.SignUp,
		CrashAfter:         s.cfg.CrashAfter,
	})
	s.http = &http.Server{
		Handler:           exhttp.LimitWrites(s.handler, s.cfg.RateLimit, 0),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelWarn),
	}
	s.errc = make(chan error, 1)
	go func() {
		if err := s.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.errc <- fmt.Errorf("serve http: %w", err)
		}
		close(s.errc)
	}()
	s.logger.Info("started", "version", expt.Version, "database", path, "addr", ln.Addr().String(), "max_body", s.cfg.MaxBody)
	return nil
}

// close ends live streams first (Shutdown would otherwise wait for them
// until the timeout), then lets in-flight requests finish, then closes the
// store so that every acknowledged write is on disk.
func (s *server) close() error {
	s.handler.Close()
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	var errs []error
	if err := s.http.Shutdown(ctx); err != nil {
		errs = append(errs, fmt.Errorf("shutdown http: %w", err))
	}
	if s.shared.Close != nil {
		errs = append(errs, s.shared.Close())
	}
	if err := s.store.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close store: %w", err))
	}
	if len(errs) == 0 {
		s.logger.Info("stopped")
	}
	return errors.Join(errs...)
}
