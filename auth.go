package expt

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/text/unicode/norm"
)

// KeyPrefix starts every API key so that a leaked key is recognisable by
// secret scanners and people alike.
const KeyPrefix = "expt_"

// NewToken returns a fresh secret (prefix + 256 random bits, URL-safe) and
// its SHA-256, the only part that is stored. Used for API keys and sessions.
func NewToken(prefix string) (secret string, hash []byte, err error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, fmt.Errorf("read random: %w", err)
	}
	secret = prefix + base64.RawURLEncoding.EncodeToString(b[:])
	return secret, HashToken(secret), nil
}

// HashToken is the stored form of a key or session token. A plain SHA-256 is
// enough because the secret has 256 bits of entropy: there is nothing to
// brute-force, so a slow hash would only slow every request.
func HashToken(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// MinPasswordLen is the shortest password sign-up accepts.
const MinPasswordLen = 8

// HashPassword returns the bcrypt hash of password.
func HashPassword(password string) (string, error) {
	if len(password) < MinPasswordLen {
		return "", Errorf(EINVALID, "password must be at least %d characters", MinPasswordLen)
	}
	if len(password) > 72 {
		// bcrypt ignores what follows byte 72; refuse rather than silently truncate.
		return "", Errorf(EINVALID, "password must be at most 72 bytes")
	}
	h, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// CheckPassword reports whether password matches hash, in constant time.
// An empty hash (a user without a password) never matches.
func CheckPassword(hash, password string) bool {
	if hash == "" {
		return false
	}
	return bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) == nil
}

// NormalizeEmail is the one form an email is stored and looked up in:
// trimmed, Unicode NFC, Unicode lower case. "Élise@X.org" typed with a
// combining accent and "élise@x.org" are one account on both stores.
func NormalizeEmail(s string) string {
	return strings.ToLower(norm.NFC.String(strings.TrimSpace(s)))
}
