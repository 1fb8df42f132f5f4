package client

import (
	"context"
	"fmt"
	"iter"
	"net/url"
	"strconv"

	"github.com/expt-logger/expt/api"
)

// Me is the account the key belongs to.
func (c *Client) Me(ctx context.Context) (*api.User, error) {
	var out api.UserResponse
	if err := c.call(ctx, "GET", "/api/me", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out.User, nil
}

// Projects lists the projects the caller is a member of, with their role.
func (c *Client) Projects(ctx context.Context) ([]api.Project, error) {
	var out api.Projects
	err := c.call(ctx, "GET", "/api/projects", nil, nil, &out)
	return out.Projects, err
}

// ListOptions selects a page of experiments.
type ListOptions struct {
	Project string   // a project name or id; "" for every project the key reads
	Name    string   // a case-insensitive substring of the name
	Status  string   // "active", "complete", "failed", "crashed"
	Tag     string   //
	Config  []string // "lr=3e-6"; all must hold
	Sort    string   // "created" (default), "updated", "name", "latestStep"
	Asc     bool     // oldest (or A) first; newest first by default
	Offset  int
	After   string // a page's Next: the page after it (not with Offset)
	Limit   int    // 1..1000; 0 for the server's 50
}

func (o ListOptions) query() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("project", o.Project)
	set("q", o.Name)
	set("status", o.Status)
	set("tag", o.Tag)
	set("sort", o.Sort)
	for _, m := range o.Config {
		q.Add("config", m)
	}
	if o.Asc {
		q.Set("order", "asc")
	}
	if o.Offset > 0 {
		q.Set("offset", strconv.Itoa(o.Offset))
	}
	if o.After != "" {
		q.Set("after", o.After)
	}
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	return q
}

// Experiments returns one page of experiments and how many match in all.
func (c *Client) Experiments(ctx context.Context, o ListOptions) (*api.Experiments, error) {
	var out api.Experiments
	if err := c.call(ctx, "GET", "/api/experiments", o.query(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AllExperiments yields every experiment o matches, a page at a time,
// each page after the last (by key, so deep pages cost what the first does).
func (c *Client) AllExperiments(ctx context.Context, o ListOptions) iter.Seq2[api.ExperimentSummary, error] {
	return func(yield func(api.ExperimentSummary, error) bool) {
		if o.Limit == 0 {
			o.Limit = 200
		}
		for {
			page, err := c.Experiments(ctx, o)
			if err != nil {
				yield(api.ExperimentSummary{}, err)
				return
			}
			for _, e := range page.Experiments {
				if !yield(e, nil) {
					return
				}
			}
			if page.Next == "" {
				return
			}
			o.Offset, o.After = 0, page.Next
		}
	}
}

// Experiment is one experiment with its config.
func (c *Client) Experiment(ctx context.Context, id string) (*api.Experiment, error) {
	var out api.Experiment
	if err := c.call(ctx, "GET", "/api/experiments/"+esc(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// CreateExperiment makes an experiment (or finds the caller's with req.ID).
func (c *Client) CreateExperiment(ctx context.Context, req api.CreateExperimentRequest) (*api.CreateExperimentResponse, error) {
	var out api.CreateExperimentResponse
	if err := c.call(ctx, "POST", "/api/experiments", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateExperiment changes the fields upd sets.
func (c *Client) UpdateExperiment(ctx context.Context, id string, upd api.ExperimentUpdate) (*api.Experiment, error) {
	var out api.Experiment
	if err := c.call(ctx, "PUT", "/api/experiments/"+esc(id), nil, upd, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteExperiment deletes an experiment and all it logged.
func (c *Client) DeleteExperiment(ctx context.Context, id string) error {
	var out api.DeletedOne
	if err := c.call(ctx, "DELETE", "/api/experiments/"+esc(id), nil, nil, &out); err != nil {
		return err
	}
	if out.DeletedCount != 1 {
		return fmt.Errorf("delete %s: nothing was deleted", id)
	}
	return nil
}

// Metrics lists an experiment's metrics with their point counts.
func (c *Client) Metrics(ctx context.Context, id string) ([]api.Metric, error) {
	var out api.Metrics
	err := c.call(ctx, "GET", "/api/experiments/"+esc(id)+"/metrics", nil, nil, &out)
	return out.Metrics, err
}

// Summary is each metric ("mode/name") at its latest step.
func (c *Client) Summary(ctx context.Context, id string) (map[string]api.SummaryValue, error) {
	var out api.Summary
	err := c.call(ctx, "GET", "/api/experiments/"+esc(id)+"/summary", nil, nil, &out)
	return out.Summary, err
}

// Series is one metric downsampled to at most maxPoints min/max/last
// buckets (0: every point), as charts read it.
func (c *Client) Series(ctx context.Context, id, mode, name string, maxPoints int) (*api.Series, error) {
	q := url.Values{"mode": {mode}, "name": {name}, "maxPoints": {strconv.Itoa(maxPoints)}}
	var out api.Series
	if err := c.call(ctx, "GET", "/api/experiments/"+esc(id)+"/series", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RolloutQuery selects rollouts; zero fields do not filter.
type RolloutQuery struct {
	Mode    string
	Step    *int64
	Prompt  *string
	Group   *string
	Rewards []string // "correctness<0.5"; all must hold
	Search  string   // full-text
	Limit   int      // per page, 1..1000
}

func (o RolloutQuery) query() url.Values {
	q := url.Values{}
	if o.Mode != "" {
		q.Set("mode", o.Mode)
	}
	if o.Step != nil {
		q.Set("step", strconv.FormatInt(*o.Step, 10))
	}
	if o.Prompt != nil {
		q.Set("prompt", *o.Prompt)
	}
	if o.Group != nil {
		q.Set("group", *o.Group)
	}
	for _, r := range o.Rewards {
		q.Add("reward", r)
	}
	if o.Search != "" {
		q.Set("q", o.Search)
	}
	limit := 1000 // the server's largest page: fewest requests
	if o.Limit != 0 {
		limit = max(1, min(o.Limit, 1000))
	}
	q.Set("limit", strconv.Itoa(limit))
	return q
}

// Rollouts yields every rollout q selects in logging order, a page at a
// time, each page after the last id of the one before.
func (c *Client) Rollouts(ctx context.Context, id string, o RolloutQuery) iter.Seq2[api.Rollout, error] {
	return func(yield func(api.Rollout, error) bool) {
		q := o.query()
		for {
			var page api.RolloutPage
			if err := c.call(ctx, "GET", "/api/experiments/"+esc(id)+"/rollouts", q, nil, &page); err != nil {
				yield(api.Rollout{}, err)
				return
			}
			for _, r := range page.Rollouts {
				if !yield(r, nil) {
					return
				}
			}
			if !page.More || len(page.Rollouts) == 0 {
				return
			}
			q.Set("after", strconv.FormatInt(page.Rollouts[len(page.Rollouts)-1].ID, 10))
		}
	}
}

// Rollout is one rollout with its tokens.
func (c *Client) Rollout(ctx context.Context, id string, rolloutID int64) (*api.Rollout, error) {
	var out api.Rollout
	if err := c.call(ctx, "GET", fmt.Sprintf("/api/experiments/%s/rollouts/%d", esc(id), rolloutID), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Groups is a page of GRPO groups with their reward statistics.
func (c *Client) Groups(ctx context.Context, id string, mode string, step *int64, offset, limit int) (*api.GroupPage, error) {
	q := url.Values{"offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(max(1, min(limit, 1000)))}}
	if mode != "" {
		q.Set("mode", mode)
	}
	if step != nil {
		q.Set("step", strconv.FormatInt(*step, 10))
	}
	var out api.GroupPage
	if err := c.call(ctx, "GET", "/api/experiments/"+esc(id)+"/rollouts/groups", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
