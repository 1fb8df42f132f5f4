package http

import (
	"encoding/json"
	"net/http"

	"github.com/expt-logger/expt"
)

// apiFunc is a handler that returns its error instead of writing it, so that
// one place (wrap) turns every error into a status and a JSON body.
type apiFunc func(w http.ResponseWriter, r *http.Request) error

// codeMethodNotAllowed is an HTTP-only error code: the domain has no notion
// of methods.
const codeMethodNotAllowed = "method_not_allowed"

// codeTimeout: the request (its body) did not arrive in time.
const codeTimeout = "timeout"

// statusOf maps a domain error code to an HTTP status.
func statusOf(code string) int {
	switch code {
	case expt.EINVALID:
		return http.StatusBadRequest
	case expt.EUNAUTHORIZED:
		return http.StatusUnauthorized
	case expt.EFORBIDDEN:
		return http.StatusForbidden
	case expt.ENOTFOUND:
		return http.StatusNotFound
	case expt.ECONFLICT:
		return http.StatusConflict
	case expt.ETOOLARGE:
		return http.StatusRequestEntityTooLarge
	case expt.ETOOMANY:
		return http.StatusTooManyRequests
	case expt.EUNPROCESSABLE:
		return http.StatusUnprocessableEntity
	case expt.EUNAVAILABLE:
		return http.StatusServiceUnavailable
	case expt.ENOSPACE:
		return http.StatusInsufficientStorage
	case codeMethodNotAllowed:
		return http.StatusMethodNotAllowed
	case codeTimeout:
		return http.StatusRequestTimeout
	default:
		return http.StatusInternalServerError
	}
}

// handleError logs internal errors with their real text and answers the
// caller with a safe message only.
func (s *Server) handleError(w http.ResponseWriter, r *http.Request, err error) {
	if expt.ErrorCode(err) == expt.EINTERNAL && s.store != nil && s.store.StorageFull(err) {
		s.storageFullAt.Store(s.now().UnixNano())
		s.logger.Error("storage full", "method", r.Method, "path", r.URL.Path, "err", err)
		writeError(w, expt.Errorf(expt.ENOSPACE, "the server's storage is full, so nothing of this request was stored; it accepts writes again once space is freed"))
		return
	}
	if expt.ErrorCode(err) == expt.EINTERNAL {
		if r.Context().Err() != nil {
			// The client went away (a chart scrolled off, a tab closed): its
			// query was cut short, nothing failed, and nobody reads an answer.
			s.logger.Debug("request abandoned by the client", "method", r.Method, "path", r.URL.Path, "err", err)
			return
		}
		s.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, err)
}

func writeError(w http.ResponseWriter, err error) {
	body, _ := json.Marshal(map[string]string{"error": expt.ErrorMessage(err)})
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Del("Content-Encoding")
	code := expt.ErrorCode(err)
	if (code == expt.EUNAVAILABLE || code == expt.ENOSPACE) && h.Get("Retry-After") == "" {
		h.Set("Retry-After", "1")
	}
	w.WriteHeader(statusOf(code))
	w.Write(append(body, '\n'))
}

// writeJSON marshals v before writing anything, so that an encoding failure
// can still become a 500 instead of a truncated 200.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// A failed write means the client went away: nothing is left to answer.
	w.Write(append(body, '\n'))
	return nil
}

func invalid(format string, args ...any) error { return expt.Errorf(expt.EINVALID, format, args...) }
