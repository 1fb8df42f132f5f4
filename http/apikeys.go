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
	var req api.CreateKeyRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	name := strings.TrimSpace(req.Name)
	if len(name) > expt.MaxNameBytes {
		return invalid("name: longer than %d bytes", expt.MaxNameBytes)
	}
	secret, hash, err := expt.NewToken(expt.KeyPrefix)
	if err != nil {
		return err
	}
	k := &expt.APIKey{UserID: userFrom(r).ID, Name: name, Prefix: secret[:keyPrefixLen]}
	if err := s.store.CreateAPIKey(r.Context(), k, hash); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, api.CreateKeyResponse{Key: secret, APIKey: api.APIKeyOf(k)})
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) error {
	keys, err := s.store.APIKeys(r.Context(), userFrom(r).ID)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.APIKeysOf(keys))
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
