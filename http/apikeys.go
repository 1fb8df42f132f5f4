package http

import (
	"net/http"
	"strings"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/api"
)

// keyPrefixLen is how much of a secret the key list shows to tell keys apart.
const keyPrefixLen = 12

func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) error {
	if err := wholeAccount(r, "making API keys"); err != nil {
		return err
	}
	var req api.CreateKeyRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	name := strings.TrimSpace(req.Name)
	if len(name) > expt.MaxNameBytes {
		return invalid("name: longer than %d bytes", expt.MaxNameBytes)
	}
	// The store checks the access level (and makes "" full).
	k := &expt.APIKey{UserID: userFrom(r).ID, Name: name, Access: req.Access}
	names := map[int64]string{}
	if req.Project != "" {
		// A key for a project the caller is not in would be a key to
		// nothing: refuse it as the project not being there.
		notFound := expt.Errorf(expt.ENOTFOUND, "project %q not found", req.Project)
		p, err := s.store.ProjectByName(r.Context(), req.Project)
		if expt.ErrorCode(err) == expt.ENOTFOUND {
			return notFound
		} else if err != nil {
			return err
		}
		if _, err := s.authorize(r, p.ID, opRead, notFound); err != nil {
			return err
		}
		k.ProjectID, names[p.ID] = p.ID, p.Name
	}
	secret, hash, err := expt.NewToken(expt.KeyPrefix)
	if err != nil {
		return err
	}
	k.Prefix = secret[:keyPrefixLen]
	if err := s.store.CreateAPIKey(r.Context(), k, hash); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, api.CreateKeyResponse{Key: secret, APIKey: api.APIKeyOf(k, names)})
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	if err := wholeAccount(r, "listing API keys"); err != nil {
		return err
	}
	keys, err := s.store.APIKeys(r.Context(), userFrom(r).ID)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, k := range keys {
		if k.ProjectID != 0 && names[k.ProjectID] == "" {
			if p, err := s.store.Project(r.Context(), k.ProjectID); err == nil {
				names[p.ID] = p.Name
			}
		}
	}
	return writeJSON(w, http.StatusOK, api.APIKeysOf(keys, names))
}

// idList is the ids of a delete: id, ids or both.
func idList(q api.IDs) ([]string, error) {
	var ids []string
	if q.ID != nil {
		ids = append(ids, *q.ID)
	}
	ids = append(ids, q.IDs...)
	if len(ids) == 0 {
		return nil, invalid(`send "id" or a non-empty "ids"`)
	}
	return ids, nil
}

func (s *Server) deleteAPIKeys(w http.ResponseWriter, r *http.Request) error {
	if err := wholeAccount(r, "revoking API keys"); err != nil {
		return err
	}
	var req api.IDs
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	ids, err := idList(req)
	if err != nil {
		return err
	}
	n, err := s.store.DeleteAPIKeys(r.Context(), userFrom(r).ID, ids)
	if err != nil {
		return err
	}
	s.revoke()
	return writeJSON(w, http.StatusOK, api.Deleted{DeletedCount: n})
}

// deleteAPIKey is the published client's delete, one id in the path.
func (s *Server) deleteAPIKey(w http.ResponseWriter, r *http.Request) error {
	if err := wholeAccount(r, "revoking API keys"); err != nil {
		return err
	}
	id := r.PathValue("id")
	n, err := s.store.DeleteAPIKeys(r.Context(), userFrom(r).ID, []string{id})
	if err != nil {
		return err
	}
	s.revoke()
	if n == 0 {
		return expt.Errorf(expt.ENOTFOUND, "API key %q not found", id)
	}
	return writeJSON(w, http.StatusOK, api.DeletedOne{Success: true, DeletedCount: n})
}
