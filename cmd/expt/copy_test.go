package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/postgres"
	"github.com/expt-logger/expt/postgres/pgtest"
	"github.com/expt-logger/expt/sqlite"
)

// TestCopySQLiteToPostgres fills an embedded database through the store
// interface (NaN and infinite values, a prompt in two raw forms, keys,
// sessions, idempotency keys, errors, env logs), copies it with `expt copy`,
// and reads everything back from both stores: the answers must be equal,
// credentials must keep working, replays must stay replays, and new rows
// must get new ids.
func TestCopySQLiteToPostgres(t *testing.T) {
	url := pgtest.URL(t)
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "expt.db")
	lite, err := sqlite.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	u := &expt.User{Email: "Ann@Example.com", Name: "Ann", PasswordHash: "$2a$10$abcdefghijklmnopqrstuv"}
	must(t, lite.CreateUser(ctx, u))
	_, keyHash, _ := expt.NewToken(expt.KeyPrefix)
	must(t, lite.CreateAPIKey(ctx, &expt.APIKey{UserID: u.ID, Name: "laptop", Prefix: "expt_abc"}, keyHash))
	sess := expt.HashToken("session")
	must(t, lite.CreateSession(ctx, &expt.Session{TokenHash: sess, UserID: u.ID, ExpiresAt: time.Now().Add(time.Hour)}))
	exps := []string{"11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"}
	for i, id := range exps {
		_, err := lite.CreateExperiment(ctx, &expt.Experiment{ID: id, UserID: u.ID, Name: fmt.Sprintf("run-%d", i), Config: json.RawMessage(`{"lr": 0.1,"b":[1, 2]}`)})
		must(t, err)
		var pts []expt.Scalar
		for s := range 3000 {
			v := math.Sin(float64(s))
			switch s % 97 {
			case 0:
				v = math.NaN()
			case 1:
				v = math.Inf(1)
			}
			pts = append(pts, expt.Scalar{Step: int64(s), Mode: "train", Name: "loss", Value: v, TS: float64(s)}, expt.Scalar{Step: int64(s), Mode: "eval", Name: "acc", Value: -v})
		}
		_, err = lite.WriteScalars(ctx, id, pts, "scalars-1")
		must(t, err)
		for step := range 4 {
			var batch []*expt.Rollout
			for j := range 10 {
				r := &expt.Rollout{Step: int64(step), Mode: []string{"train", "eval"}[j%2], Prompt: fmt.Sprintf("prompt %d about zebras", j%3), TS: 1.5,
					Messages: []expt.Message{{Role: "user", Content: "hi", Raw: json.RawMessage(`{"role":"user","content":"hi",  "x":{"b":1,"a":2}}`)}, {Role: "assistant", Content: fmt.Sprintf("answer %d", j)}},
					Rewards:  []expt.Reward{{Name: "correct", Value: float64(j % 2)}, {Name: "len", Value: []float64{1, math.NaN(), math.Inf(-1)}[j%3]}}}
				if j%4 == 0 {
					r.PromptRaw = json.RawMessage(`[{"role":"user","content":` + fmt.Sprintf("%q", r.Prompt) + `}]`)
					r.ClientID = fmt.Sprintf("c-%d-%d", step, j)
					r.Metadata = json.RawMessage(fmt.Sprintf(`{"sample": %d,  "stop":"eos", "a":[1.5, null]}`, j))
				}
				if j%3 == 1 { // explicit groups: the prompt repeats under two ids
					r.Group = fmt.Sprintf("g%d", j%2)
				}
				batch = append(batch, r)
			}
			_, err = lite.WriteRollouts(ctx, id, batch, fmt.Sprintf("rollouts-%d", step))
			must(t, err)
		}
		_, err = lite.WriteErrors(ctx, id, []expt.RunError{{Step: ptr(int64(3)), Mode: "train", Message: "boom", Type: "ValueError", Traceback: "tb"}}, "")
		must(t, err)
		_, err = lite.WriteEnvLogs(ctx, id, []expt.EnvLog{{RolloutID: "c-0-0", Content: "env says hi"}}, "")
		must(t, err)
	}
	must(t, lite.Close())

	var out strings.Builder
	if err := Run(ctx, []string{"copy", "--from", "sqlite:" + path, "--to", url}, &out, io.Discard); err != nil {
		t.Fatalf("copy: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "matches") {
		t.Fatalf("copy printed %q", out.String())
	}
	// A second copy into the now non-empty database refuses.
	if err := Run(ctx, []string{"copy", "--from", "sqlite:" + path, "--to", url}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "empty") {
		t.Fatalf("second copy: %v", err)
	}

	lite, err = sqlite.Open(ctx, path)
	must(t, err)
	defer lite.Close()
	pg, err := postgres.Open(ctx, url)
	must(t, err)
	defer pg.Close()
	same := func(what string, f func(s expt.Store) (any, error)) {
		t.Helper()
		a, err := f(lite)
		must(t, err)
		b, err := f(pg)
		must(t, err)
		if !reflect.DeepEqual(fmt.Sprintf("%+v", deref(a)), fmt.Sprintf("%+v", deref(b))) {
			t.Fatalf("%s differs:\nsqlite   %+v\npostgres %+v", what, deref(a), deref(b))
		}
	}
	same("user", func(s expt.Store) (any, error) { return s.UserByEmail(ctx, "ann@example.com") })
	same("api key", func(s expt.Store) (any, error) { u, _, err := s.UserByAPIKey(ctx, keyHash); return u, err })
	same("session", func(s expt.Store) (any, error) { return s.UserBySession(ctx, sess, time.Now()) })
	for _, id := range exps {
		same("experiment", func(s expt.Store) (any, error) {
			e, err := s.Experiment(ctx, id)
			if err != nil {
				return nil, err
			}
			return fmt.Sprintf("%v latest=%d", []any{e.ID, e.Name, string(e.Config), e.Status, e.CreatedAt, e.UpdatedAt}, *e.LatestStep), nil
		})
		same("metrics", func(s expt.Store) (any, error) { return s.Metrics(ctx, id) })
		same("scalars", func(s expt.Store) (any, error) { return s.Scalars(ctx, id, "train") })
		same("series", func(s expt.Store) (any, error) {
			// Every point: how a store picks downsampling buckets is its own
			// business (storetest holds both to the brute-force reference).
			return s.Series(ctx, expt.SeriesQuery{ExperimentID: id, Mode: "train", Name: "loss", MaxPoints: 0})
		})
		same("rollouts", func(s expt.Store) (any, error) {
			page, _, err := s.Rollouts(ctx, expt.RolloutQuery{ExperimentID: id, Limit: 1000})
			return rolloutView(page), err
		})
		same("search", func(s expt.Store) (any, error) {
			page, _, err := s.Rollouts(ctx, expt.RolloutQuery{ExperimentID: id, Search: "zebras answer", Sort: expt.SortReward + "len", Limit: 1000})
			return rolloutView(page), err
		})
		same("groups", func(s expt.Store) (any, error) {
			g, _, err := s.RolloutGroups(ctx, expt.GroupQuery{ExperimentID: id, Limit: 1000})
			return g, err
		})
		same("step rewards", func(s expt.Store) (any, error) { return s.StepRewards(ctx, id, "") })
		same("errors", func(s expt.Store) (any, error) {
			e, _, err := s.Errors(ctx, id, 0, 10)
			b, _ := json.Marshal(e)
			return string(b), err
		})
		same("env logs", func(s expt.Store) (any, error) { return s.EnvLogs(ctx, id, "c-0-0") })
		applied, err := pg.WriteScalars(ctx, id, []expt.Scalar{{Step: 1, Mode: "train", Name: "loss", Value: 9}}, "scalars-1")
		if err != nil || applied {
			t.Fatalf("a replayed key applied after the copy: %v %v", applied, err)
		}
	}
	r := &expt.Rollout{Step: 9, Mode: "train", Prompt: "prompt 0 about zebras"}
	_, err = pg.WriteRollouts(ctx, exps[0], []*expt.Rollout{r}, "")
	must(t, err)
	if r.ID != 81 {
		t.Fatalf("first rollout after the copy got id %d, want 81 (after the 80 copied)", r.ID)
	}
}

// rolloutView drops CreatedAt's monotonic and location details by formatting.
func rolloutView(page []*expt.Rollout) []string {
	out := make([]string, len(page))
	for i, r := range page {
		msgs := make([]string, len(r.Messages))
		for j, m := range r.Messages {
			msgs[j] = m.Role + ":" + m.Content + ":" + string(m.Raw)
		}
		out[i] = fmt.Sprintf("%d %d %s %q %s %v %v %v %s %s %s %q", r.ID, r.Step, r.Mode, r.Prompt, r.PromptRaw, msgs, r.Rewards, r.TS, r.CreatedAt.Format(time.RFC3339Nano), r.ClientID, r.Metadata, r.Group)
	}
	return out
}

func deref(v any) any {
	rv := reflect.ValueOf(v)
	for rv.Kind() == reflect.Pointer && !rv.IsNil() {
		rv = rv.Elem()
	}
	if rv.Kind() == reflect.Slice {
		out := make([]any, rv.Len())
		for i := range out {
			out[i] = deref(rv.Index(i).Interface())
		}
		return out
	}
	return rv.Interface()
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }
