package client

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/expt-logger/expt/api"
)

// CreateProject makes a project with the caller as its owner.
func (c *Client) CreateProject(ctx context.Context, name string) (*api.Project, error) {
	var out api.Project
	if err := c.call(ctx, "POST", "/api/projects", nil, api.ProjectRequest{Name: name}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Project is one project with the caller's role in it.
func (c *Client) Project(ctx context.Context, id int64) (*api.Project, error) {
	var out api.Project
	if err := c.call(ctx, "GET", projectPath(id), nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RenameProject renames a project (owners).
func (c *Client) RenameProject(ctx context.Context, id int64, name string) (*api.Project, error) {
	var out api.Project
	if err := c.call(ctx, "PATCH", projectPath(id), nil, api.ProjectRequest{Name: name}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteProject deletes a project with its experiments (owners).
func (c *Client) DeleteProject(ctx context.Context, id int64) error {
	return c.call(ctx, "DELETE", projectPath(id), nil, nil, nil)
}

// Members lists a project's members and invitations.
func (c *Client) Members(ctx context.Context, project int64) ([]api.Member, error) {
	var out api.Members
	err := c.call(ctx, "GET", projectPath(project)+"/members", nil, nil, &out)
	return out.Members, err
}

// AddMember gives email a role ("owner", "editor", "viewer") in a project;
// someone without an account yet is invited.
func (c *Client) AddMember(ctx context.Context, project int64, email, role string) (*api.Member, error) {
	var out api.Member
	if err := c.call(ctx, "POST", projectPath(project)+"/members", nil, api.MemberRequest{Email: email, Role: role}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetRole changes a member's role.
func (c *Client) SetRole(ctx context.Context, project, userID int64, role string) (*api.Member, error) {
	var out api.Member
	if err := c.call(ctx, "PATCH", fmt.Sprintf("%s/members/%d", projectPath(project), userID), nil, api.MemberRequest{Role: role}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RemoveMember takes a user out of a project.
func (c *Client) RemoveMember(ctx context.Context, project, userID int64) error {
	return c.call(ctx, "DELETE", fmt.Sprintf("%s/members/%d", projectPath(project), userID), nil, nil, nil)
}

func projectPath(id int64) string { return "/api/projects/" + strconv.FormatInt(id, 10) }

// CreateKey makes an API key of the caller's, limited to a project and an
// access ("full", "write", "read") when given; the secret is in the answer only.
func (c *Client) CreateKey(ctx context.Context, req api.CreateKeyRequest) (*api.CreateKeyResponse, error) {
	var out api.CreateKeyResponse
	if err := c.call(ctx, "POST", "/api/api-keys", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Keys lists the caller's API keys (without their secrets).
func (c *Client) Keys(ctx context.Context) ([]api.APIKey, error) {
	var out api.APIKeys
	err := c.call(ctx, "GET", "/api/api-keys", nil, nil, &out)
	return out.Keys, err
}

// RevokeKey deletes one of the caller's API keys.
func (c *Client) RevokeKey(ctx context.Context, id string) error {
	return c.call(ctx, "DELETE", "/api/api-keys/"+esc(id), nil, nil, nil)
}

// Details is an experiment with its metrics.
func (c *Client) Details(ctx context.Context, id string) (*api.ExperimentDetails, error) {
	var out api.ExperimentDetails
	if err := c.call(ctx, "GET", "/api/experiments/"+esc(id)+"/details", nil, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Scalars is every point of one mode's metrics, by name (the original
// platform's read; Export streams any size instead).
func (c *Client) Scalars(ctx context.Context, id, mode string) (map[string][]api.Point, error) {
	out := map[string][]api.Point{}
	err := c.call(ctx, "GET", "/api/experiments/"+esc(id)+"/scalars", url.Values{"mode": {mode}}, nil, &out)
	return out, err
}

// RolloutSteps lists the steps that have rollouts, with their counts.
func (c *Client) RolloutSteps(ctx context.Context, id string) ([]api.StepCount, error) {
	var out api.StepCounts
	err := c.call(ctx, "GET", "/api/experiments/"+esc(id)+"/rollouts/steps", nil, nil, &out)
	return out.Steps, err
}

// StepRewards is every reward's summary per step of a mode ("" for all).
func (c *Client) StepRewards(ctx context.Context, id, mode string) ([]api.StepRewards, error) {
	q := url.Values{}
	if mode != "" {
		q.Set("mode", mode)
	}
	var out api.StepRewardList
	err := c.call(ctx, "GET", "/api/experiments/"+esc(id)+"/rewards", q, nil, &out)
	return out.Steps, err
}

// RewardDistribution is one reward's distribution over training, binned.
func (c *Client) RewardDistribution(ctx context.Context, id, mode, name string) (*api.RewardDistribution, error) {
	q := url.Values{"name": {name}}
	if mode != "" {
		q.Set("mode", mode)
	}
	var out api.RewardDistribution
	if err := c.call(ctx, "GET", "/api/experiments/"+esc(id)+"/rewards/distribution", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Heartbeat tells the server the run's process is alive; it answers the
// run's status.
func (c *Client) Heartbeat(ctx context.Context, id string) (string, error) {
	var out api.Heartbeat
	err := c.call(ctx, "POST", "/api/experiments/"+esc(id)+"/heartbeat", nil, struct{}{}, &out)
	return out.Status, err
}

// WriteErrors reports errors of a run, applied once per idemKey ("" for none).
func (c *Client) WriteErrors(ctx context.Context, id string, errs []api.RunErrorIn, idemKey string) error {
	return c.write(ctx, "/api/experiments/"+esc(id)+"/errors", api.RunErrorsIn{Errors: errs}, idemKey)
}

// Errors is a page of a run's reported errors.
func (c *Client) Errors(ctx context.Context, id string, offset, limit int) (*api.RunErrors, error) {
	q := url.Values{"offset": {strconv.Itoa(offset)}, "limit": {strconv.Itoa(max(1, min(limit, 1000)))}}
	var out api.RunErrors
	if err := c.call(ctx, "GET", "/api/experiments/"+esc(id)+"/errors", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// WriteEnvLogs stores environment logs by client rollout id.
func (c *Client) WriteEnvLogs(ctx context.Context, id string, logs []api.EnvLogIn, idemKey string) error {
	return c.write(ctx, "/api/experiments/"+esc(id)+"/env-logs", api.EnvLogsIn{Logs: logs}, idemKey)
}

// EnvLogs is the environment logs of one client rollout id.
func (c *Client) EnvLogs(ctx context.Context, id, rolloutID string) ([]api.EnvLog, error) {
	var out api.EnvLogs
	err := c.call(ctx, "GET", "/api/experiments/"+esc(id)+"/env-logs", url.Values{"rolloutId": {rolloutID}}, nil, &out)
	return out.Logs, err
}

// WriteScalars stores a batch of points (Run batches and retries for you).
func (c *Client) WriteScalars(ctx context.Context, id string, points []api.ScalarIn, idemKey string) error {
	return c.write(ctx, "/api/experiments/"+esc(id)+"/scalars", api.Scalars{Scalars: points}, idemKey)
}

// WriteRollouts stores a batch of rollouts (Run batches and retries for you).
func (c *Client) WriteRollouts(ctx context.Context, id string, rollouts []api.RolloutIn, idemKey string) error {
	return c.write(ctx, "/api/experiments/"+esc(id)+"/rollouts", api.Rollouts{Rollouts: rollouts}, idemKey)
}

func (c *Client) write(ctx context.Context, path string, body any, idemKey string) error {
	var hdr map[string]string
	if idemKey != "" {
		hdr = map[string]string{"Idempotency-Key": idemKey}
	}
	resp, err := c.request(ctx, "POST", path, nil, body, hdr)
	if err != nil {
		return err
	}
	return resp.Body.Close()
}
