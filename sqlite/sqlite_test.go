package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/sqlite"
	"github.com/expt-logger/expt/storetest"
)

func openTemp(t *testing.T) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "sub", "expt.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) expt.Store { return openTemp(t) })
}
