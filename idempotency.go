package expt

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// IdempotencyKey is what the HTTP layer hands a store for a batch sent with
// an Idempotency-Key header: the client's key scoped to the endpoint, and a
// hash of the request body. A store keeps it per experiment; the same key
// on the same endpoint with the same body is a replay (nothing stored
// again), with another body an EUNPROCESSABLE error, and on another
// endpoint a different key. A key not made by this function (a store
// test's "k1") is scoped by nothing and carries no hash: every reuse is a
// replay, as keys stored by earlier versions are.
func IdempotencyKey(endpoint, key string, body []byte) string {
	if key == "" {
		return ""
	}
	h := sha256.Sum256(body)
	return endpoint + idemSep + key + idemSep + hex.EncodeToString(h[:16])
}

// idemSep cannot occur in a key: they are printable ASCII.
const idemSep = "\x1f"

// SplitIdempotencyKey returns the key to store (endpoint and client key),
// the body hash ("" when there is none) and the client's key alone.
func SplitIdempotencyKey(s string) (stored, hash, client string) {
	parts := strings.Split(s, idemSep)
	if len(parts) != 3 {
		return s, "", s
	}
	return parts[0] + idemSep + parts[1], parts[2], parts[1]
}
