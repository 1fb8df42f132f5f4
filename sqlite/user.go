package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/internal/storekit"
)

// CreateUser inserts u and sets its ID and CreatedAt.
func (db *DB) CreateUser(ctx context.Context, u *expt.User) error {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = now()
	}
	res, err := db.write.ExecContext(ctx, `INSERT INTO users(email, name, password_hash, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT(email) DO NOTHING`, u.Email, u.Name, u.PasswordHash, nanos(u.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert user: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return expt.Errorf(expt.ECONFLICT, "email %q is already registered", u.Email)
	}
	if u.ID, err = res.LastInsertId(); err != nil {
		return fmt.Errorf("user id: %w", err)
	}
	return nil
}

const userColumns = storekit.UserColumns

func (db *DB) userWhere(ctx context.Context, what, where string, args ...any) (*expt.User, error) {
	u, err := storekit.ScanUser(db.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users u `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, expt.Errorf(expt.ENOTFOUND, "user %s not found", what)
	} else if err != nil {
		return nil, fmt.Errorf("select user: %w", err)
	}
	return u, nil
}

// UserByEmail finds a user by email, case-insensitively.
func (db *DB) UserByEmail(ctx context.Context, email string) (*expt.User, error) {
	return db.userWhere(ctx, fmt.Sprintf("%q", email), `WHERE u.email = ?`, email)
}

// UserByID finds a user by id.
func (db *DB) UserByID(ctx context.Context, id int64) (*expt.User, error) {
	return db.userWhere(ctx, fmt.Sprint(id), `WHERE u.id = ?`, id)
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
	_, err := db.write.ExecContext(ctx, `INSERT INTO api_keys(id, user_id, name, prefix, hash, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.UserID, k.Name, k.Prefix, hash, nanos(k.CreatedAt))
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return expt.Errorf(expt.ECONFLICT, "api key already exists")
		} else if strings.Contains(err.Error(), "FOREIGN KEY") {
			return expt.Errorf(expt.ENOTFOUND, "user %d not found", k.UserID)
		}
		return fmt.Errorf("insert api key: %w", err)
	}
	return nil
}

// UserByAPIKey finds the owner of the key with this hash.
func (db *DB) UserByAPIKey(ctx context.Context, hash []byte) (*expt.User, *expt.APIKey, error) {
	k := &expt.APIKey{}
	u, err := storekit.ScanUser(db.read.QueryRowContext(ctx, `SELECT `+userColumns+`, `+storekit.APIKeyColumns+`
		FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.hash = ?`, hash), storekit.APIKeyDest(k)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, expt.Errorf(expt.ENOTFOUND, "api key not found")
	} else if err != nil {
		return nil, nil, fmt.Errorf("select api key: %w", err)
	}
	k.UserID = u.ID
	if t := now(); storekit.KeyUseStale(k, t) {
		if _, err := db.write.ExecContext(ctx, `UPDATE api_keys SET last_used_at = ? WHERE id = ?`, nanos(t), k.ID); err != nil {
			return nil, nil, fmt.Errorf("touch api key: %w", err)
		}
		k.LastUsedAt = &t
	}
	return u, k, nil
}

// APIKeys lists a user's keys, oldest first.
func (db *DB) APIKeys(ctx context.Context, userID int64) ([]*expt.APIKey, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT `+storekit.APIKeyColumns+` FROM api_keys k
		WHERE k.user_id = ? ORDER BY k.created_at, k.id`, userID)
	if err != nil {
		return nil, fmt.Errorf("select api keys: %w", err)
	}
	defer rows.Close()
	return storekit.ScanAPIKeys(rows, userID)
}

// DeleteAPIKeys deletes those of ids that belong to userID.
func (db *DB) DeleteAPIKeys(ctx context.Context, userID int64, ids []string) (int, error) {
	n := 0
	err := db.tx(ctx, func(tx *sql.Tx) error {
		for _, id := range ids {
			res, err := tx.ExecContext(ctx, `DELETE FROM api_keys WHERE id = ? AND user_id = ?`, id, userID)
			if err != nil {
				return fmt.Errorf("delete api key: %w", err)
			}
			m, _ := res.RowsAffected()
			n += int(m)
		}
		return nil
	})
	return n, err
}

// CreateSession stores a session by the hash of its token.
func (db *DB) CreateSession(ctx context.Context, s *expt.Session) error {
	if _, err := db.write.ExecContext(ctx, `INSERT INTO sessions(hash, user_id, expires_at) VALUES (?, ?, ?)`,
		s.TokenHash, s.UserID, nanos(s.ExpiresAt)); err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// UserBySession returns the user of an unexpired session.
func (db *DB) UserBySession(ctx context.Context, hash []byte, at time.Time) (*expt.User, error) {
	return db.userWhere(ctx, "of session", `JOIN sessions s ON s.user_id = u.id WHERE s.hash = ? AND s.expires_at > ?`, hash, nanos(at))
}

// DeleteSession removes a session; a missing one is not an error.
func (db *DB) DeleteSession(ctx context.Context, hash []byte) error {
	if _, err := db.write.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
