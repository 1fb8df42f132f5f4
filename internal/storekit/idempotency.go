package storekit

import (
	"fmt"

	"github.com/expt-logger/expt"
)

// Claim records a write's idempotency key (expt.IdempotencyKey) in the
// write's transaction and reports whether the write should apply: false
// for a replay. The same key with another body is EUNPROCESSABLE. A key
// that an earlier version stored bare (the client's key alone, for any
// endpoint) still makes its batch a replay after an upgrade. exec runs a
// statement and returns the rows it changed, count a query of one integer;
// both take placeholders of dollar's kind, and now is the time as stored.
func Claim(exec, count func(sql string, args ...any) (int64, error), dollar bool, pk int64, idem string, now any) (bool, error) {
	if idem == "" {
		return true, nil
	}
	key, hash, client := expt.SplitIdempotencyKey(idem)
	var h any
	if hash != "" {
		h = hash
	}
	// One statement on the common path: the key is claimed unless it is
	// taken, or the client's key alone was stored by an earlier version
	// (then the batch is a replay of that one).
	w := NewWhere(dollar)
	vals := BindList(w, []any{pk, key, h, now})
	legacy := ""
	if client != key {
		legacy = ` WHERE NOT EXISTS (SELECT 1 FROM idempotency WHERE experiment = ` + w.Bind(pk) + ` AND key = ` + w.Bind(client) + ` AND body_hash IS NULL)`
	} else {
		legacy = ` WHERE true` // SQLite needs a WHERE to tell INSERT ... SELECT from its upsert clause
	}
	n, err := exec(`INSERT INTO idempotency(experiment, key, body_hash, created_at) SELECT `+vals+legacy+` ON CONFLICT DO NOTHING`, w.Args...)
	if err != nil {
		return false, fmt.Errorf("insert idempotency key: %w", err)
	}
	if n == 1 {
		return true, nil
	}
	if hash == "" {
		return false, nil
	}
	w = NewWhere(dollar)
	other, err := count(`SELECT count(*) FROM idempotency WHERE experiment = `+w.Bind(pk)+` AND key = `+w.Bind(key)+
		` AND body_hash IS NOT NULL AND body_hash <> `+w.Bind(hash), w.Args...)
	if err != nil {
		return false, fmt.Errorf("check idempotency key: %w", err)
	}
	if other > 0 {
		return false, expt.Errorf(expt.EUNPROCESSABLE, "Idempotency-Key %q was already used for a different request body on this endpoint; use a new key for a new batch", client)
	}
	return false, nil
}
