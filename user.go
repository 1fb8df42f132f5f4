package expt

import (
	"context"
	"time"
)

// User owns experiments and API keys.
type User struct {
	ID           int64
	Email        string
	Name         string
	PasswordHash string // bcrypt; empty for a local admin made by `expt keys create`
	CreatedAt    time.Time
}

// APIKey is the stored half of an API key: the secret itself is shown once
// and only its SHA-256 is kept.
type APIKey struct {
	ID         string // UUID
	UserID     int64
	Name       string
	Prefix     string // first characters of the secret, to tell keys apart
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// Session is a browser sign-in; the cookie carries the token, the store its hash.
type Session struct {
	TokenHash []byte
	UserID    int64
	ExpiresAt time.Time
}

// UserStore keeps users, API keys and sessions.
type UserStore interface {
	// CreateUser sets u.ID and u.CreatedAt; ECONFLICT when the email is taken
	// (emails compare case-insensitively).
	CreateUser(ctx context.Context, u *User) error
	UserByEmail(ctx context.Context, email string) (*User, error) // ENOTFOUND
	UserByID(ctx context.Context, id int64) (*User, error)        // ENOTFOUND
	// FirstUser returns the oldest user (the local admin); ENOTFOUND when none.
	FirstUser(ctx context.Context) (*User, error)

	// CreateAPIKey stores k (k.ID, k.CreatedAt set by the store when empty) with the hash of its secret.
	CreateAPIKey(ctx context.Context, k *APIKey, hash []byte) error
	// UserByAPIKey finds the owner of the key with this hash; ENOTFOUND when none.
	UserByAPIKey(ctx context.Context, hash []byte) (*User, *APIKey, error)
	APIKeys(ctx context.Context, userID int64) ([]*APIKey, error)
	// DeleteAPIKeys deletes those of ids that belong to userID and returns how many.
	DeleteAPIKeys(ctx context.Context, userID int64, ids []string) (int, error)

	CreateSession(ctx context.Context, s *Session) error
	// UserBySession returns the user of an unexpired session; ENOTFOUND otherwise.
	UserBySession(ctx context.Context, hash []byte, now time.Time) (*User, error)
	DeleteSession(ctx context.Context, hash []byte) error
}
