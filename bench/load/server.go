package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/expt-logger/expt"
	exhttp "github.com/expt-logger/expt/http"
	"github.com/expt-logger/expt/sqlite"
)

// localServer is the server the benchmark starts for itself: the same store
// and handler `expt serve` wires, on a loopback port, with one user and key.
type localServer struct {
	url, key, path string
	db             *sqlite.DB
	handler        *exhttp.Server
	http           *http.Server
	removeDir      string // temporary data directory to delete on close
}

func startServer(ctx context.Context, dataDir string, keep bool, log io.Writer) (*localServer, error) {
	s := &localServer{}
	if dataDir == "" {
		dir, err := os.MkdirTemp("", "expt-load-")
		if err != nil {
			return nil, fmt.Errorf("temp dir: %w", err)
		}
		dataDir = dir
		if keep {
			fmt.Fprintf(log, "data kept in %s\n", dir)
		} else {
			s.removeDir = dir
		}
	} else if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	s.path = filepath.Join(dataDir, "expt.db")
	db, err := sqlite.Open(ctx, s.path)
	if err != nil {
		s.cleanup()
		return nil, fmt.Errorf("open database: %w", err)
	}
	s.db = db
	if s.key, err = benchKey(ctx, db); err != nil {
		s.close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		s.close()
		return nil, fmt.Errorf("listen: %w", err)
	}
	s.url = "http://" + ln.Addr().String()
	// Only warnings: an info line per request would measure the logger.
	logger := slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s.handler = exhttp.NewServer(exhttp.Config{
		Store: db, Events: exhttp.NewEventBus(), PublicURL: s.url,
		MaxBodyBytes: 256 << 20, Logger: logger,
	})
	s.http = &http.Server{Handler: s.handler, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := s.http.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(log, "load: serve:", err)
		}
	}()
	return s, nil
}

// benchKey makes a user and an API key for the benchmark's requests.
func benchKey(ctx context.Context, db *sqlite.DB) (string, error) {
	u, err := db.UserByEmail(ctx, "bench@localhost")
	if expt.ErrorCode(err) == expt.ENOTFOUND {
		u = &expt.User{Email: "bench@localhost", Name: "bench"}
		err = db.CreateUser(ctx, u)
	}
	if err != nil {
		return "", fmt.Errorf("bench user: %w", err)
	}
	secret, hash, err := expt.NewToken(expt.KeyPrefix)
	if err != nil {
		return "", err
	}
	if err := db.CreateAPIKey(ctx, &expt.APIKey{UserID: u.ID, Name: "load", Prefix: secret[:12]}, hash); err != nil {
		return "", fmt.Errorf("bench key: %w", err)
	}
	return secret, nil
}

func (s *localServer) close() {
	if s.handler != nil {
		s.handler.Close()
	}
	if s.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		s.http.Shutdown(ctx)
		cancel()
	}
	if s.db != nil {
		s.db.Close()
	}
	s.cleanup()
}

func (s *localServer) cleanup() {
	if s.removeDir != "" {
		os.RemoveAll(s.removeDir)
	}
}
