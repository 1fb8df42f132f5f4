package http

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/api"
)

// canMakeProjects: a session, or a key for every project that may write.
func canMakeProjects(r *http.Request) error {
	if k := keyFrom(r); k != nil && (k.ProjectID != 0 || !keyAllows(k, opWrite)) {
		return expt.Errorf(expt.EFORBIDDEN, "this API key is limited (%s access%s) and may not make projects", k.Access, map[bool]string{true: ", one project"}[k.ProjectID != 0])
	}
	return nil
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) error {
	u, k := userFrom(r), keyFrom(r)
	list, err := s.store.Projects(r.Context(), u.ID, u.Admin)
	if err != nil {
		return err
	}
	out := api.Projects{Projects: []api.Project{}}
	for _, p := range list {
		if k == nil || k.ProjectID == 0 || k.ProjectID == p.ID {
			out.Projects = append(out.Projects, api.ProjectOf(p))
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

func (s *Server) createProject(w http.ResponseWriter, r *http.Request) error {
	if err := canMakeProjects(r); err != nil {
		return err
	}
	var req api.ProjectRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	p := &expt.Project{Name: strings.TrimSpace(req.Name)}
	if err := s.store.CreateProject(r.Context(), p, userFrom(r).ID); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, api.ProjectOf(p))
}

func (s *Server) getProject(w http.ResponseWriter, r *http.Request) error {
	p, err := s.project(r, opRead)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.ProjectOf(p))
}

func (s *Server) updateProject(w http.ResponseWriter, r *http.Request) error {
	p, err := s.project(r, opManage)
	if err != nil {
		return err
	}
	var req api.ProjectRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	role := p.Role
	if p, err = s.store.RenameProject(r.Context(), p.ID, strings.TrimSpace(req.Name)); err != nil {
		return err
	}
	p.Role = role
	return writeJSON(w, http.StatusOK, api.ProjectOf(p))
}

func (s *Server) deleteProject(w http.ResponseWriter, r *http.Request) error {
	p, err := s.project(r, opManage)
	if err != nil {
		return err
	}
	if p.PersonalOf != 0 {
		return invalid("a personal project cannot be deleted; delete its runs instead")
	}
	if err := s.store.DeleteProject(r.Context(), p.ID); err != nil {
		return err
	}
	s.revoke()
	return writeJSON(w, http.StatusOK, api.Success{Success: true})
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request) error {
	p, err := s.project(r, opRead)
	if err != nil {
		return err
	}
	list, err := s.store.Members(r.Context(), p.ID)
	if err != nil {
		return err
	}
	out := api.Members{Members: make([]api.Member, len(list))}
	for i, m := range list {
		out.Members[i] = api.MemberOf(m)
	}
	return writeJSON(w, http.StatusOK, out)
}

// memberRequest is the project of a member change (the caller must own
// it), the request and its role, checked.
func (s *Server) memberRequest(w http.ResponseWriter, r *http.Request) (*expt.Project, api.MemberRequest, expt.Role, error) {
	var req api.MemberRequest
	p, err := s.project(r, opManage)
	if err != nil {
		return nil, req, "", err
	}
	if err := s.decodeJSON(w, r, &req); err != nil {
		return nil, req, "", err
	}
	role := expt.Role(req.Role)
	if !role.Valid() {
		return nil, req, "", invalid(`role: must be "owner", "editor" or "viewer"`)
	}
	return p, req, role, nil
}

// addMember adds a user by email. An email without an account gets an
// invited one (no password) that its owner claims by signing up, unless
// sign-up is closed: then only the admin makes accounts.
func (s *Server) addMember(w http.ResponseWriter, r *http.Request) error {
	p, req, role, err := s.memberRequest(w, r)
	if err != nil {
		return err
	}
	email := expt.NormalizeEmail(req.Email)
	if at := strings.IndexByte(email, '@'); at <= 0 || at == len(email)-1 || len(email) > 254 {
		return invalid("email must be an email address")
	}
	ctx := r.Context()
	u, err := s.store.UserByEmail(ctx, email)
	if expt.ErrorCode(err) == expt.ENOTFOUND {
		if s.signUpPolicy == SignUpClosed {
			return invalid("%s has no account, and sign-up is closed on this server: ask its admin to run expt users create --email %s", email, email)
		}
		u = &expt.User{Email: email, Name: email[:strings.IndexByte(email, '@')], Invited: true}
		if err = s.store.CreateUser(ctx, u); expt.ErrorCode(err) == expt.ECONFLICT {
			u, err = s.store.UserByEmail(ctx, email)
		}
	}
	if err != nil {
		return err
	}
	if old, err := s.store.Role(ctx, p.ID, u.ID); err != nil {
		return err
	} else if old != "" {
		return expt.Errorf(expt.ECONFLICT, "%s is already a member (%s); change their role instead", email, old)
	}
	if err := s.store.SetMember(ctx, p.ID, u.ID, role); err != nil {
		return err
	}
	return s.writeMember(w, r, p.ID, u.ID, http.StatusCreated)
}

func (s *Server) writeMember(w http.ResponseWriter, r *http.Request, projectID, userID int64, status int) error {
	list, err := s.store.Members(r.Context(), projectID)
	if err != nil {
		return err
	}
	for _, m := range list {
		if m.UserID == userID {
			return writeJSON(w, status, api.MemberOf(m))
		}
	}
	return expt.Errorf(expt.ENOTFOUND, "member %d not found", userID)
}

// member resolves {userId} to a member of p.
func (s *Server) member(r *http.Request, p *expt.Project) (int64, expt.Role, error) {
	raw := r.PathValue("userId")
	notFound := expt.Errorf(expt.ENOTFOUND, "member %q not found", raw)
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, "", notFound
	}
	role, err := s.store.Role(r.Context(), p.ID, id)
	if err != nil {
		return 0, "", err
	} else if role == "" {
		return 0, "", notFound
	}
	return id, role, nil
}

// keepsAnOwner refuses to take the last owner away from a project: nobody
// could manage it any more.
func (s *Server) keepsAnOwner(r *http.Request, projectID, userID int64) error {
	list, err := s.store.Members(r.Context(), projectID)
	if err != nil {
		return err
	}
	for _, m := range list {
		if m.Role == expt.RoleOwner && m.UserID != userID {
			return nil
		}
	}
	return expt.Errorf(expt.ECONFLICT, "a project keeps at least one owner: make someone else owner first")
}

func (s *Server) updateMember(w http.ResponseWriter, r *http.Request) error {
	p, _, role, err := s.memberRequest(w, r)
	if err != nil {
		return err
	}
	id, old, err := s.member(r, p)
	if err != nil {
		return err
	}
	if old == expt.RoleOwner && role != expt.RoleOwner {
		if err := s.keepsAnOwner(r, p.ID, id); err != nil {
			return err
		}
	}
	if err := s.store.SetMember(r.Context(), p.ID, id, role); err != nil {
		return err
	}
	s.revoke() // a demoted viewer's open streams recheck at once
	return s.writeMember(w, r, p.ID, id, http.StatusOK)
}

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) error {
	p, err := s.project(r, opManage)
	if err != nil {
		return err
	}
	id, old, err := s.member(r, p)
	if err != nil {
		return err
	}
	if old == expt.RoleOwner {
		if err := s.keepsAnOwner(r, p.ID, id); err != nil {
			return err
		}
	}
	if _, err := s.store.RemoveMember(r.Context(), p.ID, id); err != nil {
		return err
	}
	s.revoke() // their open streams end now, not at the next tick
	return writeJSON(w, http.StatusOK, api.Success{Success: true})
}
