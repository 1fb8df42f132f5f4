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
	PasswordHash string // bcrypt; empty for a user who has not signed up yet
	CreatedAt    time.Time
	// Admin manages the server's users and is an owner of every project.
	// The first account made on a server is its admin.
	Admin bool
	// Disabled users cannot sign in, and their keys and sessions stop working.
	Disabled bool
	// Invited users were added to a project by email before they had an
	// account: signing up with that email claims the account (sets its
	// password) instead of being refused as taken.
	Invited bool
}

// UserUpdate changes the fields that are not nil.
type UserUpdate struct {
	Name         *string
	PasswordHash *string
	Admin        *bool
	Disabled     *bool
	Invited      *bool
}

// Key access levels: what a key may do within what its user may do.
const (
	AccessFull  = "full"  // everything the user may do
	AccessWrite = "write" // create runs and log to them; read no data, delete nothing
	AccessRead  = "read"  // read only
)

// APIKey is the stored half of an API key: the secret itself is shown once
// and only its SHA-256 is kept.
type APIKey struct {
	ID         string // UUID
	UserID     int64
	Name       string
	Prefix     string // first characters of the secret, to tell keys apart
	CreatedAt  time.Time
	LastUsedAt *time.Time
	// ProjectID limits the key to one project; 0 for every project of its user.
	ProjectID int64
	Access    string // one of the Access* levels; AccessFull when empty
}

// Session is a browser sign-in; the cookie carries the token, the store its hash.
type Session struct {
	TokenHash []byte
	UserID    int64
	ExpiresAt time.Time
}

// UserStore keeps users, API keys and sessions.
type UserStore interface {
	// CreateUser sets u.ID and u.CreatedAt and makes the user's personal
	// project; ECONFLICT when the email is taken (emails compare
	// case-insensitively). The first user becomes an admin whatever u.Admin says.
	CreateUser(ctx context.Context, u *User) error
	UserByEmail(ctx context.Context, email string) (*User, error) // ENOTFOUND
	UserByID(ctx context.Context, id int64) (*User, error)        // ENOTFOUND
	// FirstUser returns the oldest user; ENOTFOUND when none.
	FirstUser(ctx context.Context) (*User, error)
	// Users lists every user, oldest first.
	Users(ctx context.Context) ([]*User, error)
	UpdateUser(ctx context.Context, id int64, upd UserUpdate) (*User, error) // ENOTFOUND

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
