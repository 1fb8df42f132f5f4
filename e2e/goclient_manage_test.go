package e2e

import (
	"context"
	"net/http"
	"testing"

	"github.com/expt-logger/expt/api"
	exptclient "github.com/expt-logger/expt/client"
)

// TestGoClientCoversTheAPI drives the rest of the API through the Go
// client against the real binary: projects, members, scoped keys and what
// they may do, run logs, heartbeats and the per-step reads.
func TestGoClientCoversTheAPI(t *testing.T) {
	data := t.TempDir()
	key := createKey(t, data)
	p := startServer(t, nil, "--data", data)
	ctx := context.Background()
	c := exptclient.New(p.URL, key)

	proj, err := c.CreateProject(ctx, "math-grpo")
	if err != nil || proj.Role != "owner" {
		t.Fatalf("CreateProject: %+v %v", proj, err)
	}
	m, err := c.AddMember(ctx, proj.ID, "labmate@example.com", "viewer")
	if err != nil || !m.Invited || m.Role != "viewer" {
		t.Fatalf("AddMember: %+v %v", m, err)
	}
	if m, err = c.SetRole(ctx, proj.ID, m.UserID, "editor"); err != nil || m.Role != "editor" {
		t.Fatalf("SetRole: %+v %v", m, err)
	}
	if ms, err := c.Members(ctx, proj.ID); err != nil || len(ms) != 2 {
		t.Fatalf("Members: %+v %v", ms, err)
	}
	if err := c.RemoveMember(ctx, proj.ID, m.UserID); err != nil {
		t.Fatal(err)
	}
	if proj, err = c.RenameProject(ctx, proj.ID, "math-grpo-2"); err != nil || proj.Name != "math-grpo-2" {
		t.Fatalf("RenameProject: %+v %v", proj, err)
	}

	created, err := c.CreateExperiment(ctx, api.CreateExperimentRequest{Project: "math-grpo-2"})
	if err != nil {
		t.Fatal(err)
	}
	id := created.ExperimentID
	// A key limited to the project and to writing: it logs, it cannot read.
	job, err := c.CreateKey(ctx, api.CreateKeyRequest{Name: "job", Project: "math-grpo-2", Access: "write"})
	if err != nil || job.Key == "" {
		t.Fatalf("CreateKey: %v", err)
	}
	w := exptclient.New(p.URL, job.Key)
	step := int64(3)
	if err := w.WriteScalars(ctx, id, []api.ScalarIn{{Step: 3, Mode: "train", Name: "loss", Value: 0.5}}, "k1"); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteScalars(ctx, id, []api.ScalarIn{{Step: 3, Mode: "train", Name: "loss", Value: 0.5}}, "k1"); err != nil {
		t.Fatal("a replayed batch:", err)
	}
	ro := longRollout(5)
	ro.Step, ro.ID = 3, "env-1"
	if err := w.WriteRollouts(ctx, id, []api.RolloutIn{ro, longRollout(6)}, ""); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteErrors(ctx, id, []api.RunErrorIn{{Step: &step, Message: "CUDA out of memory", ErrorType: "RuntimeError"}}, ""); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteEnvLogs(ctx, id, []api.EnvLogIn{{RolloutID: "env-1", Content: "$ python solve.py\n4"}}, ""); err != nil {
		t.Fatal(err)
	}
	if status, err := w.Heartbeat(ctx, id); err != nil || status != "active" {
		t.Fatalf("Heartbeat: %q %v", status, err)
	}
	if _, err := w.Summary(ctx, id); statusOf(err) != http.StatusForbidden {
		t.Fatalf("a write-only key read: %v, want 403", err)
	}
	keys, err := c.Keys(ctx)
	if err != nil || len(keys) != 2 {
		t.Fatalf("Keys: %+v %v", keys, err)
	}
	if err := c.RevokeKey(ctx, job.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Heartbeat(ctx, id); !exptclient.IsUnauthorized(err) {
		t.Fatalf("a revoked key: %v, want 401", err)
	}

	d, err := c.Details(ctx, id)
	if err != nil || len(d.Metrics) != 1 || d.Metrics[0].Count != 1 {
		t.Fatalf("Details: %+v %v", d, err)
	}
	if pts, err := c.Scalars(ctx, id, "train"); err != nil || len(pts["loss"]) != 1 || float64(pts["loss"][0].Value) != 0.5 {
		t.Fatalf("Scalars: %+v %v", pts, err)
	}
	if steps, err := c.RolloutSteps(ctx, id); err != nil || len(steps) != 2 {
		t.Fatalf("RolloutSteps: %+v %v", steps, err)
	}
	if sr, err := c.StepRewards(ctx, id, "train"); err != nil || len(sr) != 2 || sr[0].Rewards[0].Name != "correct" {
		t.Fatalf("StepRewards: %+v %v", sr, err)
	}
	if dist, err := c.RewardDistribution(ctx, id, "train", "correct"); err != nil || len(dist.Steps) != 2 {
		t.Fatalf("RewardDistribution: %+v %v", dist, err)
	}
	if g, err := c.Groups(ctx, id, "train", &step, 0, 10); err != nil || len(g.Groups) != 1 || g.Groups[0].Count != 1 {
		t.Fatalf("Groups: %+v %v", g, err)
	}
	if errs, err := c.Errors(ctx, id, 0, 10); err != nil || len(errs.Errors) != 1 || errs.Errors[0].Type != "RuntimeError" {
		t.Fatalf("Errors: %+v %v", errs, err)
	}
	if logs, err := c.EnvLogs(ctx, id, "env-1"); err != nil || len(logs) != 1 || logs[0].Content != "$ python solve.py\n4" {
		t.Fatalf("EnvLogs: %+v %v", logs, err)
	}
	if err := c.DeleteProject(ctx, proj.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Experiment(ctx, id); !exptclient.IsNotFound(err) {
		t.Fatalf("the project's experiment after its delete: %v", err)
	}
}

func statusOf(err error) int {
	if e, ok := err.(*exptclient.Error); ok {
		return e.Status
	}
	return 0
}
