package expt

import (
	"context"
	"time"
)

// Role is what a member may do in a project. Each role includes the ones
// below it.
type Role string

const (
	RoleViewer Role = "viewer" // read
	RoleEditor Role = "editor" // + log, edit and delete runs
	RoleOwner  Role = "owner"  // + members, settings, delete the project
)

// rank orders the roles; an unknown role (and "", no membership) ranks 0.
func (r Role) rank() int {
	switch r {
	case RoleViewer:
		return 1
	case RoleEditor:
		return 2
	case RoleOwner:
		return 3
	}
	return 0
}

// Valid reports whether r is one of the three roles.
func (r Role) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r includes need.
func (r Role) AtLeast(need Role) bool { return r.rank() > 0 && r.rank() >= need.rank() }

// Project holds experiments and the people who may see them. Every user has
// a personal one (named by their email) that only they own at first.
type Project struct {
	ID         int64
	Name       string
	PersonalOf int64 // the user whose personal project this is; 0 for a shared one
	CreatedAt  time.Time
	// Role is the caller's role when the project came from Projects.
	Role Role
}

// Member is one user's role in a project.
type Member struct {
	UserID    int64
	Email     string
	Name      string
	Role      Role
	Invited   bool // the user has not signed up yet (see User.Invited)
	CreatedAt time.Time
}

// MaxProjectNameBytes bounds a project name.
const MaxProjectNameBytes = 100

// CheckProjectName checks the name of a project someone creates or
// renames: letters, digits, '.', '_' and '-', starting with a letter or
// digit. Personal projects are named by their user's email, which no
// created name can be (no '@'), so the two never collide.
func CheckProjectName(name string) error {
	if name == "" {
		return Errorf(EINVALID, "project: must not be empty")
	}
	if len(name) > MaxProjectNameBytes {
		return Errorf(EINVALID, "project: longer than %d bytes", MaxProjectNameBytes)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || i > 0 && (c == '.' || c == '_' || c == '-')
		if !ok {
			return Errorf(EINVALID, "project: %q must be letters, digits, '.', '_' and '-', starting with a letter or digit", name)
		}
	}
	return nil
}

// ProjectStore keeps projects and their members. Access is the caller's
// business (the HTTP layer): these methods do what they are told.
type ProjectStore interface {
	// CreateProject stores p (ID, CreatedAt set) with owner as its owner;
	// ECONFLICT when the name is taken (names compare case-insensitively).
	CreateProject(ctx context.Context, p *Project, owner int64) error
	Project(ctx context.Context, id int64) (*Project, error)          // ENOTFOUND
	ProjectByName(ctx context.Context, name string) (*Project, error) // ENOTFOUND; case-insensitive
	// PersonalProject is userID's personal project.
	PersonalProject(ctx context.Context, userID int64) (*Project, error)
	// Projects lists the projects userID is a member of, with their role,
	// or every project (as owner) when all is set; by name.
	Projects(ctx context.Context, userID int64, all bool) ([]*Project, error)
	RenameProject(ctx context.Context, id int64, name string) (*Project, error)
	// DeleteProject deletes the project, its experiments with all their
	// data, its members and the keys scoped to it.
	DeleteProject(ctx context.Context, id int64) error
	// Role is userID's role in the project; "" when not a member.
	Role(ctx context.Context, projectID, userID int64) (Role, error)
	Members(ctx context.Context, projectID int64) ([]*Member, error)
	// SetMember adds userID to the project with role, or changes their role.
	SetMember(ctx context.Context, projectID, userID int64, role Role) error
	// RemoveMember reports whether userID was a member.
	RemoveMember(ctx context.Context, projectID, userID int64) (bool, error)
}
