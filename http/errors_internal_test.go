package http

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestAbandonedRequestIsNotAnError: a query cut short because the client
// went away is logged at debug, not as a failed request; the same error with
// the client still there is an error.
func TestAbandonedRequestIsNotAnError(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest("GET", "/api/experiments/x/series", nil).WithContext(ctx)
	s.handleError(httptest.NewRecorder(), r, fmt.Errorf("select series: %w", context.Canceled))
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("an abandoned request was logged as an error:\n%s", logs.String())
	}
	w := httptest.NewRecorder()
	s.handleError(w, httptest.NewRequest("GET", "/api/experiments/x/series", nil), fmt.Errorf("select series: disk on fire"))
	if !strings.Contains(logs.String(), "level=ERROR") || w.Code != 500 {
		t.Fatalf("a real failure: %d, logs:\n%s", w.Code, logs.String())
	}
}
