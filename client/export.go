package client

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"strconv"
)

// ExportRequest names what to export and how.
type ExportRequest struct {
	Experiments []string // one or more experiment ids
	Kind        string   // "scalars" or "rollouts"
	Format      string   // "parquet", "csv" or "jsonl" (default)
	Wide        bool     // scalars: a row per step and a column per metric
	Mode        string
	Keys        []string // scalars: "train/loss"
	From, To    *int64
	Search      string // rollouts: full-text
}

// Export streams an export from the server. The caller reads and closes
// it; a transfer the server cut short ends in an error from Read, never a
// clean EOF.
func (c *Client) Export(ctx context.Context, r ExportRequest) (io.ReadCloser, error) {
	if len(r.Experiments) == 0 {
		return nil, fmt.Errorf("export: no experiment")
	}
	if r.Kind != "scalars" && r.Kind != "rollouts" {
		return nil, fmt.Errorf("export: kind must be scalars or rollouts, not %q", r.Kind)
	}
	q := url.Values{}
	path := "/api/export/" + r.Kind
	if len(r.Experiments) == 1 {
		path = "/api/experiments/" + esc(r.Experiments[0]) + "/export/" + r.Kind
	} else {
		q["experiment"] = r.Experiments
	}
	if r.Format != "" {
		q.Set("format", r.Format)
	}
	if r.Wide {
		q.Set("shape", "wide")
	}
	if r.Mode != "" {
		q.Set("mode", r.Mode)
	}
	for _, k := range r.Keys {
		q.Add("key", k)
	}
	if r.From != nil {
		q.Set("from", strconv.FormatInt(*r.From, 10))
	}
	if r.To != nil {
		q.Set("to", strconv.FormatInt(*r.To, 10))
	}
	if r.Search != "" {
		q.Set("q", r.Search)
	}
	resp, err := c.get(ctx, path, q, map[string]string{"Accept-Encoding": "identity"})
	if err != nil {
		return nil, err
	}
	return resp.Body, nil
}
