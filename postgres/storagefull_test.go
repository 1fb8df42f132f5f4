package postgres

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestStorageFull: PostgreSQL's disk_full, however wrapped, is a full
// disk (the server answers 507); other errors are not.
func TestStorageFull(t *testing.T) {
	db := &DB{}
	full := fmt.Errorf("insert points: %w", &pgconn.PgError{Code: "53100", Message: `could not extend file "base/1/2": No space left on device`})
	if !db.StorageFull(full) {
		t.Error("disk_full not recognised")
	}
	for _, err := range []error{nil, errors.New("no"), &pgconn.PgError{Code: "23505"}} {
		if db.StorageFull(err) {
			t.Errorf("%v taken for a full disk", err)
		}
	}
}
