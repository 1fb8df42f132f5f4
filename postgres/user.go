package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
)

// CreateUser inserts u and sets its ID and CreatedAt.
func (db *DB) CreateUser(ctx context.Context, u *expt.User) error {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now()
	}
	u.CreatedAt = micro(u.CreatedAt)
	err := db.pool.QueryRow(ctx, `INSERT INTO users(email, name, password_hash, created_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (lower(email)) DO NOTHING RETURNING id`, u.Email, u.Name, u.PasswordHash, u.CreatedAt).Scan(&u.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return expt.Errorf(expt.ECONFLICT, "email %q is already registered", u.Email)
	} else if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	return nil
}

const userColumns = storekit.UserColumns

func (db *DB) userWhere(ctx context.Context, what, where string, args ...any) (*expt.User, error) {
	u, err := storekit.ScanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users u `+where, args...))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, expt.Errorf(expt.ENOTFOUND, "user %s not found", what)
	} else if err != nil {
		return nil, fmt.Errorf("select user: %w", err)
	}
	return u, nil
}

// UserByEmail finds a user by email, case-insensitively.
func (db *DB) UserByEmail(ctx context.Context, email string) (*expt.User, error) {
	return db.userWhere(ctx, fmt.Sprintf("%q", email), `WHERE lower(u.email) = lower($1)`, email)
}

// UserByID finds a user by id.
func (db *DB) UserByID(ctx context.Context, id int64) (*expt.User, error) {
	return db.userWhere(ctx, fmt.Sprint(id), `WHERE u.id = $1`, id)
}

// FirstUser returns the oldest user.
func (db *DB) FirstUser(ctx context.Context) (*expt.User, error) {
	return db.userWhere(ctx, "(first)", `ORDER BY u.created_at, u.id LIMIT 1`)
}

// CreateAPIKey stores k with the hash of its secret.
func (db *DB) CreateAPIKey(ctx context.Context, k *expt.APIKey, hash []byte) error {
	if len(hash) == 0 {
		return expt.Errorf(expt.EINVALID, "api key hash is empty")
	}
	if k.ID == "" {
		k.ID = expt.NewUUID()
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = now()
	}
	k.CreatedAt = micro(k.CreatedAt)
	_, err := db.pool.Exec(ctx, `INSERT INTO api_keys(id, user_id, name, prefix, hash, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		k.ID, k.UserID, k.Name, k.Prefix, hash, k.CreatedAt)
	switch pgCode(err) {
	case "":
	case codeUniqueViolation:
		return expt.Errorf(expt.ECONFLICT, "api key already exists")
	case codeForeignKeyViolation:
		return expt.Errorf(expt.ENOTFOUND, "user %d not found", k.UserID)
	}
	if err != nil {
		return fmt.Errorf("insert api key: %w", err)
	}
	return nil
}

// UserByAPIKey finds the owner of the key with this hash.
func (db *DB) UserByAPIKey(ctx context.Context, hash []byte) (*expt.User, *expt.APIKey, error) {
	k := &expt.APIKey{}
	u, err := storekit.ScanUser(db.pool.QueryRow(ctx, `SELECT `+userColumns+`, `+storekit.APIKeyColumns+`
		FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.hash = $1`, hash), storekit.APIKeyDest(k)...)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, expt.Errorf(expt.ENOTFOUND, "api key not found")
	} else if err != nil {
		return nil, nil, fmt.Errorf("select api key: %w", err)
	}
	k.UserID = u.ID
	if t := now(); storekit.KeyUseStale(k, t) {
		if _, err := db.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = $1 WHERE id = $2`, t, k.ID); err != nil {
			return nil, nil, fmt.Errorf("touch api key: %w", err)
		}
		k.LastUsedAt = &t
	}
	return u, k, nil
}

// APIKeys lists a user's keys, oldest first.
func (db *DB) APIKeys(ctx context.Context, userID int64) ([]*expt.APIKey, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+storekit.APIKeyColumns+` FROM api_keys k
		WHERE k.user_id = $1 ORDER BY k.created_at, k.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("select api keys: %w", err)
	}
	defer rows.Close()
	return storekit.ScanAPIKeys(rows, userID)
}

// DeleteAPIKeys deletes those of ids that belong to userID.
func (db *DB) DeleteAPIKeys(ctx context.Context, userID int64, ids []string) (int, error) {
	tag, err := db.pool.Exec(ctx, `DELETE FROM api_keys WHERE user_id = $1 AND id = ANY($2)`, userID, ids)
	if err != nil {
		return 0, fmt.Errorf("delete api keys: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// CreateSession stores a session by the hash of its token.
func (db *DB) CreateSession(ctx context.Context, s *expt.Session) error {
	if _, err := db.pool.Exec(ctx, `INSERT INTO sessions(hash, user_id, expires_at) VALUES ($1, $2, $3)`,
		s.TokenHash, s.UserID, s.ExpiresAt.UTC()); err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// UserBySession returns the user of an unexpired session.
func (db *DB) UserBySession(ctx context.Context, hash []byte, at time.Time) (*expt.User, error) {
	return db.userWhere(ctx, "of session", `JOIN sessions s ON s.user_id = u.id WHERE s.hash = $1 AND s.expires_at > $2`, hash, at.UTC())
}

// DeleteSession removes a session; a missing one is not an error.
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE hash = $1`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
