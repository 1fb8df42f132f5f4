package http

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/expt-logger/expt"
)

// op is what a request does within a project. A caller may do it when
// both their role in the project and the key they came with allow it.
type op int

const (
	opRead   op = iota // read runs and everything logged to them
	opAttach           // read a run's own record (name, config, latest step): how a job resumes it
	opWrite            // create runs, log to them, edit them
	opDelete           // delete runs
	opManage           // members, settings, delete the project
)

var opNames = map[op]string{opRead: "read", opAttach: "read", opWrite: "write", opDelete: "delete", opManage: "manage"}

// roleAllows: viewers read, editors also log, edit and delete runs,
// owners also manage the project.
func roleAllows(r expt.Role, o op) bool {
	switch o {
	case opRead, opAttach:
		return r.AtLeast(expt.RoleViewer)
	case opWrite, opDelete:
		return r.AtLeast(expt.RoleEditor)
	}
	return r.AtLeast(expt.RoleOwner)
}

// keyAllows: a write key logs (and reads back the record of the run it
// resumes) but reads no data and deletes nothing; a read key only reads.
func keyAllows(k *expt.APIKey, o op) bool {
	if k == nil {
		return true // a browser session: the role alone decides
	}
	switch k.Access {
	case expt.AccessWrite:
		return o == opWrite || o == opAttach
	case expt.AccessRead:
		return o == opRead || o == opAttach
	}
	return true
}

// keyPermits is keyAllows as the error a caller gets: EFORBIDDEN naming
// the key's access, nil when the key (or a session) may do o.
func keyPermits(k *expt.APIKey, o op) error {
	if keyAllows(k, o) {
		return nil
	}
	return expt.Errorf(expt.EFORBIDDEN, "this API key has %s access, which may not %s here", k.Access, opNames[o])
}

// keyFrom is the key the request came with; nil for a browser session.
func keyFrom(r *http.Request) *expt.APIKey {
	k, _ := r.Context().Value(apiKeyKey).(*expt.APIKey)
	return k
}

// role is the caller's role in a project: owner of every project for the
// admin, "" (not a member) when the caller's key is limited to another.
func (s *Server) role(ctx context.Context, u *expt.User, k *expt.APIKey, projectID int64) (expt.Role, error) {
	if k != nil && k.ProjectID != 0 && k.ProjectID != projectID {
		return "", nil
	}
	if u.Admin {
		return expt.RoleOwner, nil
	}
	return s.store.Role(ctx, projectID, u.ID)
}

// authorize decides op on a project for the request's caller: not a
// member (or a key for another project) is notFound, exactly like a
// missing thing; a member whose role or key is too low is EFORBIDDEN.
func (s *Server) authorize(r *http.Request, projectID int64, o op, notFound error) (expt.Role, error) {
	k := keyFrom(r)
	role, err := s.role(r.Context(), userFrom(r), k, projectID)
	if err != nil {
		return "", err
	}
	if role == "" {
		return "", notFound
	}
	if !roleAllows(role, o) {
		return role, expt.Errorf(expt.EFORBIDDEN, "your role in this project is %s, which may not %s here", role, opNames[o])
	}
	return role, keyPermits(k, o)
}

// wholeAccount refuses keys limited to a project or an access level:
// managing keys needs a session or a full key, or a write-only job key
// could mint itself a full one.
func wholeAccount(r *http.Request, what string) error {
	if k := keyFrom(r); k != nil && (k.ProjectID != 0 || k.Access != expt.AccessFull) {
		return expt.Errorf(expt.EFORBIDDEN, "%s needs a browser session or a full-access API key for every project; this key is limited", what)
	}
	return nil
}

// visibleProjects lists the ids of the projects where the caller may do o.
func (s *Server) visibleProjects(r *http.Request, o op) ([]int64, error) {
	u, k := userFrom(r), keyFrom(r)
	if !keyAllows(k, o) {
		return nil, nil
	}
	list, err := s.store.Projects(r.Context(), u.ID, u.Admin)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, p := range list {
		if (k == nil || k.ProjectID == 0 || k.ProjectID == p.ID) && roleAllows(p.Role, o) {
			ids = append(ids, p.ID)
		}
	}
	return ids, nil
}

// experiment loads the experiment {id} and checks that the caller may do
// o to it. Not being able to see it and a malformed id are ENOTFOUND
// exactly like a missing one.
func (s *Server) experiment(r *http.Request, o op) (*expt.Experiment, error) {
	return s.experimentByID(r, r.PathValue("id"), o)
}

func (s *Server) experimentByID(r *http.Request, id string, o op) (*expt.Experiment, error) {
	notFound := expt.Errorf(expt.ENOTFOUND, "experiment %q not found", id)
	if !validUUID(id) {
		return nil, notFound
	}
	e, err := s.store.Experiment(r.Context(), strings.ToLower(id))
	if err != nil {
		return nil, err
	}
	if _, err := s.authorize(r, e.ProjectID, o, notFound); err != nil {
		return nil, err
	}
	return e, nil
}

// project loads the project {id} with the caller's role, checking o.
func (s *Server) project(r *http.Request, o op) (*expt.Project, error) {
	raw := r.PathValue("id")
	notFound := expt.Errorf(expt.ENOTFOUND, "project %q not found", raw)
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return nil, notFound
	}
	p, err := s.store.Project(r.Context(), id)
	if expt.ErrorCode(err) == expt.ENOTFOUND {
		return nil, notFound
	} else if err != nil {
		return nil, err
	}
	if p.Role, err = s.authorize(r, p.ID, o, notFound); err != nil {
		return nil, err
	}
	return p, nil
}
