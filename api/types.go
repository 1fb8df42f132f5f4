package api

import (
	"encoding/json"
	"time"
)

// Error is the body of every 4xx and 5xx answer.
type Error struct {
	Error string `json:"error"`
}

// Health is GET /api/health.
type Health struct {
	Status  string `json:"status"`            // "ok", or "degraded" while writes fail (a full disk)
	Problem string `json:"problem,omitempty"` // what is degraded
}

// User is a signed-in user; never their password hash.
type User struct {
	ID        int64     `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
	Admin     bool      `json:"admin"` // manages the server's users; owner of every project
}

// UserResponse answers sign-up, sign-in and GET /api/auth/me.
type UserResponse struct {
	User User `json:"user"`
}

// SignUpRequest is POST /api/auth/signup.
type SignUpRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name,omitempty"`
}

// SignInRequest is POST /api/auth/signin.
type SignInRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

// Heartbeat answers the SDK's heartbeat with the run's status.
type Heartbeat struct {
	Status string `json:"status"`
}

// Success answers a sign-out.
type Success struct {
	Success bool `json:"success"`
}

// APIKey is a key as listed: never its secret.
type APIKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"` // first characters of the secret, to tell keys apart
	CreatedAt  time.Time  `json:"createdAt"`
	LastUsedAt *time.Time `json:"lastUsedAt"`
	// Project is the one project the key may reach; null for every
	// project of its user.
	Project *ProjectRef `json:"project"`
	Access  string      `json:"access"` // "full", "write" (log, never read or delete) or "read"
}

// ProjectRef names a project.
type ProjectRef struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// CreateKeyRequest is POST /api/api-keys.
type CreateKeyRequest struct {
	Name    string `json:"name"`
	Project string `json:"project,omitempty"` // the name of the one project the key may reach
	Access  string `json:"access,omitempty"`  // "full" (default), "write" or "read"
}

// Project is a project and the caller's role in it.
type Project struct {
	ID        int64     `json:"id"`
	Name      string    `json:"name"`
	Personal  bool      `json:"personal"` // a user's own project, named by their email
	Role      string    `json:"role"`     // the caller's: "owner", "editor" or "viewer"
	CreatedAt time.Time `json:"createdAt"`
}

// Projects is GET /api/projects.
type Projects struct {
	Projects []Project `json:"projects"`
}

// ProjectRequest is POST /api/projects and PATCH /api/projects/{id}.
type ProjectRequest struct {
	Name string `json:"name"`
}

// Member is one user's role in a project.
type Member struct {
	UserID    int64     `json:"userId"`
	Email     string    `json:"email"`
	Name      string    `json:"name"`
	Role      string    `json:"role"`
	Invited   bool      `json:"invited"` // has not signed up yet
	CreatedAt time.Time `json:"createdAt"`
}

// Members is GET /api/projects/{id}/members.
type Members struct {
	Members []Member `json:"members"`
}

// MemberRequest is POST /api/projects/{id}/members (email and role) and
// PATCH /api/projects/{id}/members/{userId} (role).
type MemberRequest struct {
	Email string `json:"email,omitempty"`
	Role  string `json:"role"`
}

// CreateKeyResponse is the new key with its secret, shown once.
type CreateKeyResponse struct {
	Key string `json:"key"`
	APIKey
}

// APIKeys is GET /api/keys.
type APIKeys struct {
	Keys []APIKey `json:"keys"`
}

// IDs is the body of the original platform's deletes: {"id"}, {"ids"} or both.
type IDs struct {
	ID  *string  `json:"id,omitempty"`
	IDs []string `json:"ids,omitempty"`
}

// Deleted answers a delete by ids.
type Deleted struct {
	DeletedCount int `json:"deletedCount"`
}

// DeletedOne answers a delete of one id in the path.
type DeletedOne struct {
	Success      bool `json:"success"`
	DeletedCount int  `json:"deletedCount"`
}

// ExperimentInfo is an experiment's stored fields, as live events carry them.
type ExperimentInfo struct {
	ID         string          `json:"id"`
	Name       string          `json:"name"`
	Config     json.RawMessage `json:"config"` // a JSON object; {} when none
	Status     string          `json:"status"`
	JobID      string          `json:"jobId,omitempty"`
	CreatedAt  time.Time       `json:"createdAt"`
	UpdatedAt  time.Time       `json:"updatedAt"`  // also moved by every accepted batch
	LatestStep *int64          `json:"latestStep"` // highest step of any scalar or rollout; null when none
	Tags       []string        `json:"tags"`
	Notes      string          `json:"notes"`
	Group      string          `json:"group,omitempty"` // the processes of one distributed job
	ProjectID  int64           `json:"projectId"`
}

// Experiment is an experiment with its page in the browser.
type Experiment struct {
	ExperimentInfo
	URL string `json:"url"`
}

// ExperimentDetails is GET /api/experiments/{id}/details.
type ExperimentDetails struct {
	Experiment
	Metrics []Metric `json:"metrics"`
}

// ExperimentSummary is an experiment as the list shows it: everything but
// its config, which can be megabytes (GET /api/experiments/{id} has it).
type ExperimentSummary struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	Status     string    `json:"status"`
	JobID      string    `json:"jobId,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
	LatestStep *int64    `json:"latestStep"`
	Tags       []string  `json:"tags"`
	Group      string    `json:"group,omitempty"`
	ProjectID  int64     `json:"projectId"`
	URL        string    `json:"url"`
	// Metrics holds, when the list asked for metric columns, the value at
	// the highest step of each ("train/loss") the run has.
	Metrics map[string]Num `json:"metrics,omitempty"`
}

// Experiments is a page of GET /api/experiments and the total matching.
type Experiments struct {
	Experiments []ExperimentSummary `json:"experiments"`
	Total       int                 `json:"total"`
	// Next, when more may follow, is the after= of the next page: paging by
	// key costs the same however deep, where offset= walks every row before.
	Next string `json:"next,omitempty"`
}

// CreateExperimentRequest is POST /api/experiments (and PUT with an id).
type CreateExperimentRequest struct {
	ID     string          `json:"id,omitempty"` // the SDK may choose it
	Name   *string         `json:"name,omitempty"`
	Config json.RawMessage `json:"config,omitempty"`
	JobID  string          `json:"jobId,omitempty"`
	Tags   []string        `json:"tags,omitempty"`
	Notes  string          `json:"notes,omitempty"`
	Group  string          `json:"group,omitempty"`
	// Project is the name of the project to log into, made when missing
	// and the caller may; without it, the key's project or the caller's
	// personal one.
	Project string `json:"project,omitempty"`
}

// CreateExperimentResponse answers POST /api/experiments; created is false
// when the experiment existed already (a retried create).
type CreateExperimentResponse struct {
	ExperimentID string     `json:"experimentId"`
	Name         string     `json:"name"`
	Status       string     `json:"status"`
	CreatedAt    time.Time  `json:"createdAt"`
	Created      bool       `json:"created"`
	URL          string     `json:"url"`
	Project      ProjectRef `json:"project"`
}

// ExperimentUpdate is PATCH /api/experiments/{id}: the fields to change.
type ExperimentUpdate struct {
	ID     string          `json:"id,omitempty"` // only in the older PUT /api/experiments
	Name   *string         `json:"name,omitempty"`
	Config json.RawMessage `json:"config,omitempty"` // replaces the whole config
	Status *string         `json:"status,omitempty"`
	Tags   *[]string       `json:"tags,omitempty"` // replaces the tags
	Notes  *string         `json:"notes,omitempty"`
}

// Metric names one series of an experiment.
type Metric struct {
	Mode     string `json:"mode"`
	Name     string `json:"name"`
	Count    int64  `json:"count"`
	LastStep int64  `json:"lastStep"`
}

// Metrics is GET /api/experiments/{id}/metrics.
type Metrics struct {
	Metrics []Metric `json:"metrics"`
}

// Point is one point of the original platform's scalar GET, which answers
// a map from metric name to points.
type Point struct {
	Step  int64 `json:"step"`
	Value Num   `json:"value"`
	TS    Num   `json:"ts,omitempty"`
}

// Series is one metric as aligned columns, the shape uPlot draws: each
// index is one point, or one bucket of a downsampled series (its last
// value, min and max, with their steps).
type Series struct {
	Mode        string  `json:"mode"`
	Name        string  `json:"name"`
	Total       int64   `json:"total"`
	Downsampled bool    `json:"downsampled"`
	Step        []int64 `json:"step"`
	Value       []Num   `json:"value"`
	Min         []Num   `json:"min"`
	MinStep     []int64 `json:"minStep"`
	Max         []Num   `json:"max"`
	MaxStep     []int64 `json:"maxStep"`
	TS          []Num   `json:"ts"`
}

// ScalarIn is one scalar of POST /api/experiments/{id}/scalars.
type ScalarIn struct {
	Step  int64    `json:"step"`
	Mode  string   `json:"mode"`
	Name  string   `json:"name"`
	Value Num      `json:"value"`
	TS    *float64 `json:"ts,omitempty"`
}

// Scalars is the body of a scalar write.
type Scalars struct {
	Scalars []ScalarIn `json:"scalars"`
}

// Written answers a batch write; replayed means the Idempotency-Key was
// already applied and nothing was stored again.
type Written struct {
	Accepted int  `json:"accepted"`
	Replayed bool `json:"replayed"`
}

// RolloutsWritten answers a rollout write with the new rollouts' ids, in
// batch order (none when replayed).
type RolloutsWritten struct {
	Accepted int     `json:"accepted"`
	IDs      []int64 `json:"ids"`
	Replayed bool    `json:"replayed"`
}

// ScalarEvent is one scalar of a live "scalars" event.
type ScalarEvent struct {
	Step  int64  `json:"step"`
	Mode  string `json:"mode"`
	Name  string `json:"name"`
	Value Num    `json:"value"`
	TS    Num    `json:"ts"`
}

// ScalarsEvent is the data of a live "scalars" event.
type ScalarsEvent struct {
	Scalars []ScalarEvent `json:"scalars"`
}

// RolloutsEvent is the data of a live "rollouts" event.
type RolloutsEvent struct {
	Rollouts []Rollout `json:"rollouts"`
}

// ExperimentEvent is the data of a live "experiment" event.
type ExperimentEvent struct {
	Experiment ExperimentInfo `json:"experiment"`
}

// Summary is GET /api/experiments/{id}/summary: each metric ("mode/name")
// at its latest step.
type Summary struct {
	Summary map[string]SummaryValue `json:"summary"`
}

// SummaryValue is one metric's latest value, the step it was logged at and
// how many points the metric has.
type SummaryValue struct {
	Value Num   `json:"value"`
	Step  int64 `json:"step"`
	Count int64 `json:"count"`
}
