package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// client sends the benchmark's requests with one key and a connection pool
// big enough that every concurrent worker keeps its own connection.
type client struct {
	base, key string
	http      *http.Client
}

func newClient(base, key string, conns int) *client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = conns + 2
	return &client{base: base, key: key, http: &http.Client{Transport: tr, Timeout: 10 * time.Minute}}
}

// do sends body (already JSON) and decodes a 2xx response into out; any
// other status is an error carrying the server's message.
func (c *client) do(ctx context.Context, method, path string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %.300s", method, path, resp.Status, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

func (c *client) createExperiment(ctx context.Context, name string) (string, error) {
	body, _ := json.Marshal(map[string]any{"name": name, "config": map[string]any{"bench": true}})
	var out struct {
		ExperimentID string `json:"experimentId"`
	}
	if err := c.do(ctx, "POST", "/api/experiments", body, &out); err != nil {
		return "", err
	}
	return out.ExperimentID, nil
}
