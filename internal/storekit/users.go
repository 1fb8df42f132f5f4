package storekit

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/expt-logger/expt"
)

// micro is how both engines keep times: microseconds, UTC (what
// PostgreSQL stores and JSON carries).
func micro(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// NormalizeEmails brings the emails stored by earlier versions to
// expt.NormalizeEmail's form, once per open. An email whose normal form
// another account already has is left as it is (and logged by the caller):
// merging accounts is not for a migration to decide.
func (s Common) NormalizeEmails(ctx context.Context) (conflicts []string, err error) {
	rows, err := s.e.Read.Query(ctx, `SELECT id, email FROM users`)
	if err != nil {
		return nil, fmt.Errorf("select emails: %w", err)
	}
	type fix struct {
		id    int64
		email string
	}
	var fixes []fix
	for rows.Next() {
		var f fix
		if err := rows.Scan(&f.id, &f.email); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan email: %w", err)
		}
		if n := expt.NormalizeEmail(f.email); n != f.email {
			fixes = append(fixes, fix{f.id, n})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select emails: %w", err)
	}
	for _, f := range fixes {
		w := NewWhere(s.e.Write.Dollar())
		_, err := s.e.Write.Exec(ctx, `UPDATE users SET email = `+w.Bind(f.email)+` WHERE id = `+w.Bind(f.id), w.Args...)
		if s.e.Write.Violation(err) == Unique {
			conflicts = append(conflicts, f.email)
			continue
		} else if err != nil {
			return conflicts, fmt.Errorf("normalize email: %w", err)
		}
	}
	return conflicts, nil
}

// CreateUser inserts u with its personal project, and sets its ID and
// CreatedAt. The first user (no admin yet) becomes the admin.
func (s Common) CreateUser(ctx context.Context, u *expt.User) error {
	if u.CreatedAt.IsZero() {
		u.CreatedAt = time.Now()
	}
	u.CreatedAt = micro(u.CreatedAt)
	u.Email = expt.NormalizeEmail(u.Email)
	return s.e.Tx(ctx, func(tx Conn) error {
		w := NewWhere(tx.Dollar())
		err := tx.QueryRow(ctx, `INSERT INTO users(email, name, password_hash, created_at, invited, disabled, is_admin) VALUES (`+
			BindList(w, []any{u.Email, u.Name, u.PasswordHash, s.e.Time(u.CreatedAt), u.Invited, u.Disabled})+`,
			`+w.Bind(u.Admin)+` OR NOT EXISTS (SELECT 1 FROM users WHERE is_admin))
			ON CONFLICT (`+s.e.EmailKey+`) DO NOTHING RETURNING id, is_admin`, w.Args...).Scan(&u.ID, &u.Admin)
		if ok, err := Found(err); err != nil {
			return fmt.Errorf("insert user: %w", err)
		} else if !ok {
			return expt.Errorf(expt.ECONFLICT, "email %q is already registered", u.Email)
		}
		return s.insertProject(ctx, tx, &expt.Project{Name: u.Email, PersonalOf: u.ID, CreatedAt: u.CreatedAt}, u.ID)
	})
}

// Users lists every user, oldest first.
func (s Common) Users(ctx context.Context) ([]*expt.User, error) {
	rows, err := s.e.Read.Query(ctx, `SELECT `+UserColumns+` FROM users u ORDER BY u.created_at, u.id`)
	if err != nil {
		return nil, fmt.Errorf("select users: %w", err)
	}
	defer rows.Close()
	out := []*expt.User{}
	for rows.Next() {
		u, err := ScanUser(rows)
		if err != nil {
			return nil, fmt.Errorf("scan user: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// UpdateUser changes the fields of upd that are set.
func (s Common) UpdateUser(ctx context.Context, id int64, upd expt.UserUpdate) (*expt.User, error) {
	w := NewWhere(s.e.Write.Dollar())
	var set []string
	if upd.Name != nil {
		set = append(set, `name = `+w.Bind(*upd.Name))
	}
	if upd.PasswordHash != nil {
		set = append(set, `password_hash = `+w.Bind(*upd.PasswordHash))
	}
	if upd.Admin != nil {
		set = append(set, `is_admin = `+w.Bind(*upd.Admin))
	}
	if upd.Disabled != nil {
		set = append(set, `disabled = `+w.Bind(*upd.Disabled))
	}
	if upd.Invited != nil {
		set = append(set, `invited = `+w.Bind(*upd.Invited))
	}
	if len(set) > 0 {
		n, err := s.e.Write.Exec(ctx, `UPDATE users SET `+strings.Join(set, ", ")+` WHERE id = `+w.Bind(id), w.Args...)
		if err != nil {
			return nil, fmt.Errorf("update user: %w", err)
		} else if n == 0 {
			return nil, expt.Errorf(expt.ENOTFOUND, "user %d not found", id)
		}
	}
	return s.UserByID(ctx, id)
}

// UserByEmail finds a user by email, case-insensitively.
func (s Common) UserByEmail(ctx context.Context, email string) (*expt.User, error) {
	email = expt.NormalizeEmail(email)
	w := NewWhere(s.e.Read.Dollar())
	return QueryUser(ctx, s.e.Read, fmt.Sprintf("%q", email), `WHERE `+s.e.EmailMatch(w.Bind(email)), w.Args...)
}

// CreateAPIKey stores k with the hash of its secret.
func (s Common) CreateAPIKey(ctx context.Context, k *expt.APIKey, hash []byte) error {
	if len(hash) == 0 {
		return expt.Errorf(expt.EINVALID, "api key hash is empty")
	}
	if k.ID == "" {
		k.ID = expt.NewUUID()
	}
	if k.CreatedAt.IsZero() {
		k.CreatedAt = time.Now()
	}
	k.CreatedAt = micro(k.CreatedAt)
	switch k.Access {
	case "":
		k.Access = expt.AccessFull
	case expt.AccessFull, expt.AccessWrite, expt.AccessRead:
	default:
		return expt.Errorf(expt.EINVALID, `access: must be "full", "write" or "read"`)
	}
	var project any
	if k.ProjectID != 0 {
		project = k.ProjectID
	}
	w := NewWhere(s.e.Write.Dollar())
	_, err := s.e.Write.Exec(ctx, `INSERT INTO api_keys(id, user_id, name, prefix, hash, created_at, project_id, access) VALUES (`+
		BindList(w, []any{k.ID, k.UserID, k.Name, k.Prefix, hash, s.e.Time(k.CreatedAt), project, k.Access})+`)`, w.Args...)
	switch s.e.Write.Violation(err) {
	case Unique:
		return expt.Errorf(expt.ECONFLICT, "api key already exists")
	case ForeignKey:
		return expt.Errorf(expt.ENOTFOUND, "user %d or project %d not found", k.UserID, k.ProjectID)
	}
	if err != nil {
		return fmt.Errorf("insert api key: %w", err)
	}
	return nil
}

// UserByAPIKey finds the owner of the key with this hash, and notes the
// key's use (at most once a minute, see KeyUseStale).
func (s Common) UserByAPIKey(ctx context.Context, hash []byte) (*expt.User, *expt.APIKey, error) {
	u, k, err := QueryKeyOwner(ctx, s.e.Read, hash)
	if err != nil {
		return nil, nil, err
	}
	if t := micro(time.Now()); KeyUseStale(k, t) {
		w := NewWhere(s.e.Write.Dollar())
		if _, err := s.e.Write.Exec(ctx, `UPDATE api_keys SET last_used_at = `+w.Bind(s.e.Time(t))+` WHERE id = `+w.Bind(k.ID), w.Args...); err != nil {
			return nil, nil, fmt.Errorf("touch api key: %w", err)
		}
		k.LastUsedAt = &t
	}
	return u, k, nil
}

// deleteChunk bounds the ids of one DELETE: SQLite allows 32,766
// placeholders and a request may name more keys than that.
const deleteChunk = 500

// DeleteAPIKeys deletes those of ids that belong to userID.
func (s Common) DeleteAPIKeys(ctx context.Context, userID int64, ids []string) (int, error) {
	n := 0
	err := s.e.Tx(ctx, func(tx Conn) error {
		n = 0
		for len(ids) > 0 {
			chunk := ids[:min(len(ids), deleteChunk)]
			ids = ids[len(chunk):]
			w := NewWhere(tx.Dollar())
			m, err := tx.Exec(ctx, `DELETE FROM api_keys WHERE user_id = `+w.Bind(userID)+` AND `+In(w, "id", chunk), w.Args...)
			if err != nil {
				return fmt.Errorf("delete api keys: %w", err)
			}
			n += int(m)
		}
		return nil
	})
	return n, err
}

// CreateSession stores a session by the hash of its token.
func (s Common) CreateSession(ctx context.Context, ss *expt.Session) error {
	w := NewWhere(s.e.Write.Dollar())
	if _, err := s.e.Write.Exec(ctx, `INSERT INTO sessions(hash, user_id, expires_at) VALUES (`+
		BindList(w, []any{ss.TokenHash, ss.UserID, s.e.Time(ss.ExpiresAt.UTC())})+`)`, w.Args...); err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// UserBySession returns the user of an unexpired session.
func (s Common) UserBySession(ctx context.Context, hash []byte, at time.Time) (*expt.User, error) {
	w := NewWhere(s.e.Read.Dollar())
	return QueryUser(ctx, s.e.Read, "of session", `JOIN sessions s ON s.user_id = u.id WHERE s.hash = `+w.Bind(hash)+
		` AND s.expires_at > `+w.Bind(s.e.Time(at.UTC())), w.Args...)
}

// DeleteSession removes a session; a missing one is not an error.
func (s Common) DeleteSession(ctx context.Context, hash []byte) error {
	w := NewWhere(s.e.Write.Dollar())
	if _, err := s.e.Write.Exec(ctx, `DELETE FROM sessions WHERE hash = `+w.Bind(hash), w.Args...); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
