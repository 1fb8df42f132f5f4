package http

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/api"
)

// Errors and environment logs: what the published client sends with
// log_error and log_environment. Both are append-only batches with the same
// idempotency as scalars and rollouts.

type runErrorIn struct {
	Step      json.RawMessage `json:"step"`
	Mode      *string         `json:"mode"`
	Message   *string         `json:"message"`
	ErrorType *string         `json:"error_type"`
	TypeAlias *string         `json:"errorType"`
	Traceback *string         `json:"traceback"`
	TS        json.RawMessage `json:"ts"`
}

func decodeRunErrors(body []byte) ([]expt.RunError, error) {
	var top struct {
		Errors *[]json.RawMessage `json:"errors"`
	}
	if err := unmarshalStrict(body, &top, ""); err != nil {
		return nil, err
	}
	if top.Errors == nil {
		return nil, invalid("errors is required")
	}
	if len(*top.Errors) > expt.MaxRunLogsPerBatch {
		return nil, expt.Errorf(expt.ETOOLARGE, "errors: more than %d in one batch", expt.MaxRunLogsPerBatch)
	}
	out := make([]expt.RunError, len(*top.Errors))
	for i, raw := range *top.Errors {
		path := fmt.Sprintf("errors[%d]", i)
		if firstByte(raw) != '{' {
			return nil, invalid("%s: must be an object", path)
		}
		var in runErrorIn
		if err := unmarshalStrict(raw, &in, path); err != nil {
			return nil, err
		}
		e := &out[i]
		if k := firstByte(in.Step); k != 0 && k != 'n' {
			step, ferr := api.ParseStep(in.Step)
			if ferr != nil {
				return nil, invalid("%s.step: %s", path, ferr.Msg)
			}
			e.Step = &step
		}
		if in.Mode != nil {
			e.Mode = *in.Mode
		}
		if in.Message == nil {
			return nil, invalid("%s.message is required", path)
		}
		e.Message = *in.Message
		switch {
		case in.ErrorType != nil:
			e.Type = *in.ErrorType
		case in.TypeAlias != nil:
			e.Type = *in.TypeAlias
		}
		if in.Traceback != nil {
			e.Traceback = *in.Traceback
		}
		if k := firstByte(in.TS); k != 0 && k != 'n' {
			ts, ferr := api.ParseNum(in.TS)
			if ferr != nil || k == '"' {
				return nil, invalid("%s.ts: must be a number of seconds since the epoch", path)
			}
			e.TS = ts
		}
	}
	return out, nil
}

type envLogIn struct {
	RolloutID *string `json:"rolloutId"`
	Content   *string `json:"content"`
}

func decodeEnvLogs(body []byte) ([]expt.EnvLog, error) {
	var top struct {
		Logs *[]json.RawMessage `json:"logs"`
	}
	if err := unmarshalStrict(body, &top, ""); err != nil {
		return nil, err
	}
	if top.Logs == nil {
		return nil, invalid("logs is required")
	}
	if len(*top.Logs) > expt.MaxRunLogsPerBatch {
		return nil, expt.Errorf(expt.ETOOLARGE, "logs: more than %d in one batch", expt.MaxRunLogsPerBatch)
	}
	out := make([]expt.EnvLog, len(*top.Logs))
	for i, raw := range *top.Logs {
		path := fmt.Sprintf("logs[%d]", i)
		if firstByte(raw) != '{' {
			return nil, invalid("%s: must be an object", path)
		}
		var in envLogIn
		if err := unmarshalStrict(raw, &in, path); err != nil {
			return nil, err
		}
		switch {
		case in.RolloutID == nil:
			return nil, invalid("%s.rolloutId is required", path)
		case in.Content == nil:
			return nil, invalid("%s.content is required", path)
		}
		out[i] = expt.EnvLog{RolloutID: *in.RolloutID, Content: *in.Content}
	}
	return out, nil
}

func (s *Server) writeErrors(w http.ResponseWriter, r *http.Request) error {
	idem, e, body, err := s.batchRequest(w, r)
	if err != nil {
		return err
	}
	batch, err := decodeRunErrors(body)
	if err != nil {
		return err
	}
	applied, err := s.store.WriteErrors(r.Context(), e.ID, batch, idem)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.Written{Accepted: len(batch), Replayed: !applied})
}

func (s *Server) listErrors(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r, opRead)
	if err != nil {
		return err
	}
	offset, limit, err := pageParams(r.URL.Query())
	if err != nil {
		return err
	}
	page, more, err := s.store.Errors(r.Context(), e.ID, offset, limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.RunErrorsOf(page, more))
}

func (s *Server) writeEnvLogs(w http.ResponseWriter, r *http.Request) error {
	idem, e, body, err := s.batchRequest(w, r)
	if err != nil {
		return err
	}
	batch, err := decodeEnvLogs(body)
	if err != nil {
		return err
	}
	applied, err := s.store.WriteEnvLogs(r.Context(), e.ID, batch, idem)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.Written{Accepted: len(batch), Replayed: !applied})
}

func (s *Server) listEnvLogs(w http.ResponseWriter, r *http.Request) error {
	e, err := s.experiment(r, opRead)
	if err != nil {
		return err
	}
	rid := r.URL.Query().Get("rolloutId")
	if rid == "" {
		return invalid("rolloutId is required")
	}
	logs, err := s.store.EnvLogs(r.Context(), e.ID, rid)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.EnvLogsOf(logs))
}
