// Package storetest is the conformance suite every expt.Store passes: the
// sqlite tests run it always, a Postgres store runs the same suite. It
// checks behaviour through the expt interfaces only.
package storetest

import (
	"context"
	"math"
	"testing"

	"github.com/expt-logger/expt"
)

// Run runs the whole suite; open returns a fresh, empty store per subtest
// (closing it is open's business, e.g. with t.Cleanup).
func Run(t *testing.T, open func(t *testing.T) expt.Store) {
	t.Run("Users", func(t *testing.T) { testUsers(t, open) })
	t.Run("Experiments", func(t *testing.T) { testExperiments(t, open) })
	t.Run("Projects", func(t *testing.T) { testProjects(t, open) })
	t.Run("RunTable", func(t *testing.T) { testRunTable(t, open) })
	t.Run("Scalars", func(t *testing.T) { testScalars(t, open) })
	t.Run("Series", func(t *testing.T) { testSeries(t, open) })
	t.Run("Rollouts", func(t *testing.T) { testRollouts(t, open) })
	t.Run("RolloutStats", func(t *testing.T) { testRolloutStats(t, open) })
	t.Run("RewardDistribution", func(t *testing.T) { testRewardDistribution(t, open) })
	t.Run("DistributionSketches", func(t *testing.T) { testDistributionSketches(t, open) })
	t.Run("Tokens", func(t *testing.T) { testTokens(t, open) })
	t.Run("Metadata", func(t *testing.T) { testMetadata(t, open) })
	t.Run("ExplicitGroups", func(t *testing.T) { testExplicitGroups(t, open) })
	t.Run("Points", func(t *testing.T) { testPoints(t, open) })
	t.Run("ExperimentKeyset", func(t *testing.T) { testExperimentKeyset(t, open) })
	t.Run("RolloutKeyset", func(t *testing.T) { testRolloutKeyset(t, open) })
	t.Run("OpposedInfinities", func(t *testing.T) { testOpposedInfinities(t, open) })
	t.Run("RunLogs", func(t *testing.T) { testRunLogs(t, open) })
	t.Run("Isolation", func(t *testing.T) { testIsolation(t, open) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, open) })
	t.Run("SameKeyConcurrently", func(t *testing.T) { testSameKeyConcurrently(t, open) })
}

// fixture is a store with one user and one experiment.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	s     expt.Store
	user  *expt.User
	expID string
}

func newFixture(t *testing.T, open func(t *testing.T) expt.Store) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), s: open(t)}
	f.user = f.newUser("owner@example.com")
	f.expID = f.newExperiment(f.user.ID, "run-1").ID
	return f
}

func (f *fixture) newUser(email string) *expt.User {
	f.t.Helper()
	u := &expt.User{Email: email, Name: "N " + email}
	if err := f.s.CreateUser(f.ctx, u); err != nil {
		f.t.Fatalf("CreateUser(%s): %v", email, err)
	}
	return u
}

func (f *fixture) newExperiment(userID int64, name string) *expt.Experiment {
	f.t.Helper()
	e := &expt.Experiment{ID: expt.NewUUID(), UserID: userID, Name: name}
	created, err := f.s.CreateExperiment(f.ctx, e)
	if err != nil || !created {
		f.t.Fatalf("CreateExperiment(%s) = %v, %v", name, created, err)
	}
	return e
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := expt.ErrorCode(err); got != code {
		t.Fatalf("%s: error code %q (%v), want %q", what, got, err, code)
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// same compares floats so that NaN equals NaN and +0 equals -0.
func same(a, b float64) bool {
	return a == b || math.IsNaN(a) && math.IsNaN(b)
}

// approx compares with a relative tolerance, for sums done in another order.
func approx(a, b float64) bool {
	if same(a, b) {
		return true
	}
	return math.Abs(a-b) <= 1e-9*math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
}

func ptr[T any](v T) *T { return &v }

// personal is the one-element project list of userID's personal project.
func (f *fixture) personal(userID int64) []int64 {
	f.t.Helper()
	p, err := f.s.PersonalProject(f.ctx, userID)
	if err != nil {
		f.t.Fatalf("PersonalProject(%d): %v", userID, err)
	}
	return []int64{p.ID}
}
