package storekit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/expt-logger/expt"
)

// ProjectColumns is the column list ScanProject reads (projects aliased p).
const ProjectColumns = `p.id, p.name, coalesce(p.personal_of, 0), p.created_at`

// ScanProject reads one row of ProjectColumns followed by the extra destinations.
func ScanProject(row Row, extra ...any) (*expt.Project, error) {
	p := &expt.Project{}
	if err := row.Scan(append([]any{&p.ID, &p.Name, &p.PersonalOf, Time(&p.CreatedAt)}, extra...)...); err != nil {
		return nil, err
	}
	return p, nil
}

func queryProject(ctx context.Context, c Conn, what, where string, args ...any) (*expt.Project, error) {
	p, err := ScanProject(c.QueryRow(ctx, `SELECT `+ProjectColumns+` FROM projects p `+where, args...))
	if errors.Is(err, ErrNoRows) {
		return nil, expt.Errorf(expt.ENOTFOUND, "project %s not found", what)
	} else if err != nil {
		return nil, fmt.Errorf("select project: %w", err)
	}
	return p, nil
}

// insertProject inserts p and its first member, owner, in tx.
func (s Common) insertProject(ctx context.Context, tx Conn, p *expt.Project, owner int64) error {
	if p.CreatedAt.IsZero() {
		p.CreatedAt = time.Now()
	}
	p.CreatedAt = micro(p.CreatedAt)
	var personal any
	if p.PersonalOf != 0 {
		personal = p.PersonalOf
	}
	w := NewWhere(tx.Dollar())
	err := tx.QueryRow(ctx, `INSERT INTO projects(name, personal_of, created_at) VALUES (`+
		BindList(w, []any{p.Name, personal, s.e.Time(p.CreatedAt)})+`) RETURNING id`, w.Args...).Scan(&p.ID)
	if tx.Violation(err) == Unique {
		return expt.Errorf(expt.ECONFLICT, "project %q already exists", p.Name)
	} else if err != nil {
		return fmt.Errorf("insert project: %w", err)
	}
	w = NewWhere(tx.Dollar())
	_, err = tx.Exec(ctx, `INSERT INTO project_members(project_id, user_id, role, created_at) VALUES (`+
		BindList(w, []any{p.ID, owner, string(expt.RoleOwner), s.e.Time(p.CreatedAt)})+`)`, w.Args...)
	if tx.Violation(err) == ForeignKey {
		return expt.Errorf(expt.ENOTFOUND, "user %d not found", owner)
	} else if err != nil {
		return fmt.Errorf("insert project owner: %w", err)
	}
	p.Role = expt.RoleOwner
	return nil
}

// CreateProject stores a shared project with its owner.
func (s Common) CreateProject(ctx context.Context, p *expt.Project, owner int64) error {
	if err := expt.CheckProjectName(p.Name); err != nil {
		return err
	}
	p.PersonalOf = 0
	return s.e.Tx(ctx, func(tx Conn) error { return s.insertProject(ctx, tx, p, owner) })
}

// Project loads a project by id.
func (s Common) Project(ctx context.Context, id int64) (*expt.Project, error) {
	w := NewWhere(s.e.Read.Dollar())
	return queryProject(ctx, s.e.Read, fmt.Sprint(id), `WHERE p.id = `+w.Bind(id), w.Args...)
}

// ProjectByName loads a project by name, case-insensitively.
func (s Common) ProjectByName(ctx context.Context, name string) (*expt.Project, error) {
	w := NewWhere(s.e.Read.Dollar())
	return queryProject(ctx, s.e.Read, fmt.Sprintf("%q", name), `WHERE lower(p.name) = lower(`+w.Bind(name)+`)`, w.Args...)
}

// PersonalProject loads a user's personal project.
func (s Common) PersonalProject(ctx context.Context, userID int64) (*expt.Project, error) {
	w := NewWhere(s.e.Read.Dollar())
	return queryProject(ctx, s.e.Read, fmt.Sprintf("of user %d", userID), `WHERE p.personal_of = `+w.Bind(userID), w.Args...)
}

// Projects lists a user's projects with their role, or all of them.
func (s Common) Projects(ctx context.Context, userID int64, all bool) ([]*expt.Project, error) {
	// The admin owns every project, whatever their own memberships say.
	w := NewWhere(s.e.Read.Dollar())
	q := `SELECT ` + ProjectColumns + `, 'owner' FROM projects p`
	if !all {
		q = `SELECT ` + ProjectColumns + `, m.role FROM projects p JOIN project_members m ON m.project_id = p.id AND m.user_id = ` + w.Bind(userID)
	}
	rows, err := s.e.Read.Query(ctx, q+` ORDER BY lower(p.name)`+s.e.Collate+`, p.id`, w.Args...)
	if err != nil {
		return nil, fmt.Errorf("select projects: %w", err)
	}
	defer rows.Close()
	out := []*expt.Project{}
	for rows.Next() {
		var role string
		p, err := ScanProject(rows, &role)
		if err != nil {
			return nil, fmt.Errorf("scan project: %w", err)
		}
		p.Role = expt.Role(role)
		out = append(out, p)
	}
	return out, rows.Err()
}

// RenameProject renames a shared project.
func (s Common) RenameProject(ctx context.Context, id int64, name string) (*expt.Project, error) {
	if err := expt.CheckProjectName(name); err != nil {
		return nil, err
	}
	w := NewWhere(s.e.Write.Dollar())
	n, err := s.e.Write.Exec(ctx, `UPDATE projects SET name = `+w.Bind(name)+` WHERE id = `+w.Bind(id)+` AND personal_of IS NULL`, w.Args...)
	if s.e.Write.Violation(err) == Unique {
		return nil, expt.Errorf(expt.ECONFLICT, "project %q already exists", name)
	} else if err != nil {
		return nil, fmt.Errorf("rename project: %w", err)
	}
	if n == 0 {
		if p, err := s.Project(ctx, id); err != nil {
			return nil, err
		} else if p.PersonalOf != 0 {
			return nil, expt.Errorf(expt.EINVALID, "a personal project keeps its owner's email as its name")
		}
	}
	return s.Project(ctx, id)
}

// DeleteProject deletes the project row, its members and keys at once,
// then its experiments in chunks through the store's own delete: once the
// row is gone nobody can reach the project, so no experiment joins it.
func (s Common) DeleteProject(ctx context.Context, id int64) error {
	err := s.e.Tx(ctx, func(tx Conn) error {
		w := NewWhere(tx.Dollar())
		n, err := tx.Exec(ctx, `DELETE FROM projects WHERE id = `+w.Bind(id), w.Args...)
		if err != nil {
			return fmt.Errorf("delete project: %w", err)
		} else if n == 0 {
			return expt.Errorf(expt.ENOTFOUND, "project %d not found", id)
		}
		for _, t := range []string{"project_members", "api_keys"} {
			w := NewWhere(tx.Dollar())
			if _, err := tx.Exec(ctx, `DELETE FROM `+t+` WHERE project_id = `+w.Bind(id), w.Args...); err != nil {
				return fmt.Errorf("delete project %s: %w", t, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for {
		w := NewWhere(s.e.Read.Dollar())
		rows, err := s.e.Read.Query(ctx, `SELECT id FROM experiments WHERE project_id = `+w.Bind(id)+` LIMIT `+w.Bind(deleteChunk), w.Args...)
		if err != nil {
			return fmt.Errorf("select project experiments: %w", err)
		}
		var ids []string
		for rows.Next() {
			var e string
			if err := rows.Scan(&e); err != nil {
				rows.Close()
				return fmt.Errorf("scan experiment id: %w", err)
			}
			ids = append(ids, e)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("select project experiments: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		if _, err := s.e.DeleteExperiments(ctx, []int64{id}, ids); err != nil {
			return err
		}
	}
}

// Role is a user's role in a project, "" when not a member.
func (s Common) Role(ctx context.Context, projectID, userID int64) (expt.Role, error) {
	var role string
	w := NewWhere(s.e.Read.Dollar())
	ok, err := Found(s.e.Read.QueryRow(ctx, `SELECT role FROM project_members WHERE project_id = `+w.Bind(projectID)+
		` AND user_id = `+w.Bind(userID), w.Args...).Scan(&role))
	if err != nil {
		return "", fmt.Errorf("select role: %w", err)
	} else if !ok {
		return "", nil
	}
	return expt.Role(role), nil
}

// Members lists a project's members, owners first, then by email.
func (s Common) Members(ctx context.Context, projectID int64) ([]*expt.Member, error) {
	w := NewWhere(s.e.Read.Dollar())
	rows, err := s.e.Read.Query(ctx, `SELECT u.id, u.email, u.name, m.role, u.invited, m.created_at
		FROM project_members m JOIN users u ON u.id = m.user_id WHERE m.project_id = `+w.Bind(projectID)+`
		ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'editor' THEN 1 ELSE 2 END, u.email`+s.e.Collate, w.Args...)
	if err != nil {
		return nil, fmt.Errorf("select members: %w", err)
	}
	defer rows.Close()
	out := []*expt.Member{}
	for rows.Next() {
		m := &expt.Member{}
		var role string
		if err := rows.Scan(&m.UserID, &m.Email, &m.Name, &role, &m.Invited, Time(&m.CreatedAt)); err != nil {
			return nil, fmt.Errorf("scan member: %w", err)
		}
		m.Role = expt.Role(role)
		out = append(out, m)
	}
	return out, rows.Err()
}

// SetMember adds a member or changes their role.
func (s Common) SetMember(ctx context.Context, projectID, userID int64, role expt.Role) error {
	if !role.Valid() {
		return expt.Errorf(expt.EINVALID, `role: must be "owner", "editor" or "viewer"`)
	}
	w := NewWhere(s.e.Write.Dollar())
	_, err := s.e.Write.Exec(ctx, `INSERT INTO project_members(project_id, user_id, role, created_at) VALUES (`+
		BindList(w, []any{projectID, userID, string(role), s.e.Time(micro(time.Now()))})+`)
		ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role`, w.Args...)
	if s.e.Write.Violation(err) == ForeignKey {
		return expt.Errorf(expt.ENOTFOUND, "project %d or user %d not found", projectID, userID)
	} else if err != nil {
		return fmt.Errorf("set member: %w", err)
	}
	return nil
}

// RemoveMember removes a member.
func (s Common) RemoveMember(ctx context.Context, projectID, userID int64) (bool, error) {
	w := NewWhere(s.e.Write.Dollar())
	n, err := s.e.Write.Exec(ctx, `DELETE FROM project_members WHERE project_id = `+w.Bind(projectID)+` AND user_id = `+w.Bind(userID), w.Args...)
	if err != nil {
		return false, fmt.Errorf("remove member: %w", err)
	}
	return n == 1, nil
}
