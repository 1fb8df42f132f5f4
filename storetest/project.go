package storetest

import (
	"encoding/json"
	"math"
	"testing"

	"github.com/expt-logger/expt"
)

func testProjects(t *testing.T, open func(t *testing.T) expt.Store) {
	t.Run("PersonalAndAdmin", func(t *testing.T) {
		f := newFixture(t, open)
		if !f.user.Admin {
			t.Fatal("the first user is not the admin")
		}
		bob := f.newUser("Bob@Example.com")
		if bob.Admin {
			t.Fatal("the second user is an admin")
		}
		p, err := f.s.PersonalProject(f.ctx, bob.ID)
		must(t, "PersonalProject", err)
		if p.Name != "bob@example.com" || p.PersonalOf != bob.ID {
			t.Fatalf("bob's personal project = %+v", p)
		}
		role, err := f.s.Role(f.ctx, p.ID, bob.ID)
		must(t, "Role", err)
		if role != expt.RoleOwner {
			t.Fatalf("bob's role in his project = %q", role)
		}
		if role, _ := f.s.Role(f.ctx, p.ID, f.user.ID); role != "" {
			t.Fatalf("the owner has role %q in bob's project", role)
		}
		// An experiment made without a project lands in the personal one.
		e := f.newExperiment(bob.ID, "bob-run")
		if e.ProjectID != p.ID {
			t.Fatalf("experiment in project %d, want bob's %d", e.ProjectID, p.ID)
		}
		mine, err := f.s.Projects(f.ctx, bob.ID, false)
		must(t, "Projects", err)
		all, err := f.s.Projects(f.ctx, f.user.ID, true)
		must(t, "Projects(all)", err)
		if len(mine) != 1 || mine[0].ID != p.ID || mine[0].Role != expt.RoleOwner || len(all) != 2 {
			t.Fatalf("bob's projects %+v, all %+v", mine, all)
		}
		for _, q := range all {
			if q.Role != expt.RoleOwner {
				t.Fatalf("the admin's role in %s is %q", q.Name, q.Role)
			}
		}
	})

	t.Run("SharedProjectMembers", func(t *testing.T) {
		f := newFixture(t, open)
		bob, carol := f.newUser("bob@example.com"), f.newUser("carol@example.com")
		p := &expt.Project{Name: "Math-GRPO"}
		must(t, "CreateProject", f.s.CreateProject(f.ctx, p, bob.ID))
		wantCode(t, "CreateProject(same name, other case)", f.s.CreateProject(f.ctx, &expt.Project{Name: "math-grpo"}, carol.ID), expt.ECONFLICT)
		wantCode(t, "CreateProject(bad name)", f.s.CreateProject(f.ctx, &expt.Project{Name: "a@b"}, carol.ID), expt.EINVALID)
		got, err := f.s.ProjectByName(f.ctx, "MATH-grpo")
		must(t, "ProjectByName", err)
		if got.ID != p.ID || got.PersonalOf != 0 {
			t.Fatalf("ProjectByName = %+v, want %+v", got, p)
		}
		_, err = f.s.ProjectByName(f.ctx, "nope")
		wantCode(t, "ProjectByName(missing)", err, expt.ENOTFOUND)

		must(t, "SetMember", f.s.SetMember(f.ctx, p.ID, carol.ID, expt.RoleViewer))
		wantCode(t, "SetMember(bad role)", f.s.SetMember(f.ctx, p.ID, carol.ID, "god"), expt.EINVALID)
		must(t, "SetMember(change)", f.s.SetMember(f.ctx, p.ID, carol.ID, expt.RoleEditor))
		members, err := f.s.Members(f.ctx, p.ID)
		must(t, "Members", err)
		if len(members) != 2 || members[0].Email != "bob@example.com" || members[0].Role != expt.RoleOwner ||
			members[1].Email != "carol@example.com" || members[1].Role != expt.RoleEditor {
			t.Fatalf("members = %+v", members)
		}
		e := &expt.Experiment{ID: expt.NewUUID(), UserID: carol.ID, ProjectID: p.ID, Name: "shared-run"}
		if _, err := f.s.CreateExperiment(f.ctx, e); err != nil {
			t.Fatal(err)
		}
		list, total, err := f.s.Experiments(f.ctx, expt.ExperimentFilter{Projects: []int64{p.ID}})
		must(t, "Experiments(project)", err)
		if total != 1 || list[0].ID != e.ID || list[0].ProjectID != p.ID || list[0].UserID != carol.ID {
			t.Fatalf("project lists %+v", list)
		}
		if list, total, _ := f.s.Experiments(f.ctx, expt.ExperimentFilter{}); total != 0 || len(list) != 0 {
			t.Fatalf("no projects lists %d", total)
		}

		removed, err := f.s.RemoveMember(f.ctx, p.ID, carol.ID)
		must(t, "RemoveMember", err)
		again, _ := f.s.RemoveMember(f.ctx, p.ID, carol.ID)
		if !removed || again {
			t.Fatalf("RemoveMember = %v then %v", removed, again)
		}
		if role, _ := f.s.Role(f.ctx, p.ID, carol.ID); role != "" {
			t.Fatalf("removed member has role %q", role)
		}

		renamed, err := f.s.RenameProject(f.ctx, p.ID, "math-grpo-v2")
		must(t, "RenameProject", err)
		if renamed.Name != "math-grpo-v2" {
			t.Fatalf("renamed = %+v", renamed)
		}
		personal := f.personal(bob.ID)[0]
		_, err = f.s.RenameProject(f.ctx, personal, "mine")
		wantCode(t, "RenameProject(personal)", err, expt.EINVALID)

		// A key scoped to the project goes with it, and so do its runs.
		k := &expt.APIKey{UserID: bob.ID, Name: "job", ProjectID: p.ID, Access: expt.AccessWrite}
		must(t, "CreateAPIKey", f.s.CreateAPIKey(f.ctx, k, []byte("scoped-hash")))
		_, key, err := f.s.UserByAPIKey(f.ctx, []byte("scoped-hash"))
		must(t, "UserByAPIKey", err)
		if key.ProjectID != p.ID || key.Access != expt.AccessWrite {
			t.Fatalf("key = %+v", key)
		}
		wantCode(t, "CreateAPIKey(bad access)", f.s.CreateAPIKey(f.ctx, &expt.APIKey{UserID: bob.ID, Access: "admin"}, []byte("h2")), expt.EINVALID)
		_, err = f.s.WriteScalars(f.ctx, e.ID, []expt.Scalar{{Step: 1, Mode: "train", Name: "loss", Value: 1}}, "")
		must(t, "WriteScalars", err)
		must(t, "DeleteProject", f.s.DeleteProject(f.ctx, p.ID))
		_, err = f.s.Project(f.ctx, p.ID)
		wantCode(t, "Project(deleted)", err, expt.ENOTFOUND)
		_, err = f.s.Experiment(f.ctx, e.ID)
		wantCode(t, "Experiment(in deleted project)", err, expt.ENOTFOUND)
		_, _, err = f.s.UserByAPIKey(f.ctx, []byte("scoped-hash"))
		wantCode(t, "UserByAPIKey(scoped to deleted project)", err, expt.ENOTFOUND)
		wantCode(t, "DeleteProject(again)", f.s.DeleteProject(f.ctx, p.ID), expt.ENOTFOUND)
		// Bob's own run is untouched.
		if _, err := f.s.Experiment(f.ctx, f.expID); err != nil {
			t.Fatalf("the fixture's run went with the project: %v", err)
		}
	})

	t.Run("Users", func(t *testing.T) {
		f := newFixture(t, open)
		inv := &expt.User{Email: "new@example.com", Name: "new", Invited: true}
		must(t, "CreateUser(invited)", f.s.CreateUser(f.ctx, inv))
		hash, name, no := "$2a$10$x", "New Person", false
		u, err := f.s.UpdateUser(f.ctx, inv.ID, expt.UserUpdate{PasswordHash: &hash, Name: &name, Invited: &no})
		must(t, "UpdateUser", err)
		if u.Invited || u.PasswordHash != hash || u.Name != name || u.Admin || u.Disabled {
			t.Fatalf("claimed user = %+v", u)
		}
		yes := true
		if u, err = f.s.UpdateUser(f.ctx, inv.ID, expt.UserUpdate{Disabled: &yes, Admin: &yes}); err != nil || !u.Disabled || !u.Admin {
			t.Fatalf("disable = %+v, %v", u, err)
		}
		_, err = f.s.UpdateUser(f.ctx, inv.ID+100, expt.UserUpdate{Disabled: &yes})
		wantCode(t, "UpdateUser(missing)", err, expt.ENOTFOUND)
		list, err := f.s.Users(f.ctx)
		must(t, "Users", err)
		if len(list) != 2 || list[0].ID != f.user.ID || list[1].ID != inv.ID || !list[1].Disabled {
			t.Fatalf("users = %+v", list)
		}
	})
}

func testRunTable(t *testing.T, open func(t *testing.T) expt.Store) {
	t.Run("ConfigFilter", func(t *testing.T) {
		f := newFixture(t, open)
		mk := func(name, cfg string) {
			e := &expt.Experiment{ID: expt.NewUUID(), UserID: f.user.ID, Name: name, Config: json.RawMessage(cfg)}
			if _, err := f.s.CreateExperiment(f.ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		mk("small-lr", `{"lr": 0.000003, "optim": {"name": "adamw", "betas": [0.9, 0.99]}, "kl": true, "seed": 3}`)
		mk("big-lr", `{"lr": 3e-5, "optim": {"name": "sgd"}, "kl": false, "seed": "3"}`)
		mk("none", `{"warmup": null}`)
		for _, c := range []struct {
			path  []string
			value string
			want  string
		}{
			{[]string{"lr"}, `3e-6`, "small-lr"},
			{[]string{"lr"}, `0.00003`, "big-lr"},
			{[]string{"optim", "name"}, `"adamw"`, "small-lr"},
			{[]string{"kl"}, `true`, "small-lr"},
			{[]string{"kl"}, `false`, "big-lr"},
			{[]string{"seed"}, `3`, "small-lr"},  // the number, not the string
			{[]string{"seed"}, `"3"`, "big-lr"},  // the string, not the number
			{[]string{"warmup"}, `null`, "none"}, // null, not missing
			{[]string{"lr"}, `1`, ""},
			{[]string{"missing"}, `"x"`, ""},
		} {
			list, total, err := f.s.Experiments(f.ctx, expt.ExperimentFilter{Projects: f.personal(f.user.ID), Config: []expt.ConfigMatch{{Path: c.path, Value: json.RawMessage(c.value)}}})
			must(t, "Experiments(config)", err)
			got := ""
			if total == 1 {
				got = list[0].Name
			}
			if total > 1 || got != c.want {
				t.Errorf("config %v = %s: %v (%d), want %q", c.path, c.value, expNames(list), total, c.want)
			}
		}
		// Two conditions hold together.
		_, total, _ := f.s.Experiments(f.ctx, expt.ExperimentFilter{Projects: f.personal(f.user.ID), Config: []expt.ConfigMatch{
			{Path: []string{"lr"}, Value: json.RawMessage(`3e-6`)}, {Path: []string{"kl"}, Value: json.RawMessage(`false`)}}})
		if total != 0 {
			t.Errorf("two contradicting conditions match %d", total)
		}
		_, _, err := f.s.Experiments(f.ctx, expt.ExperimentFilter{Projects: f.personal(f.user.ID), Config: []expt.ConfigMatch{{Path: []string{"optim"}, Value: json.RawMessage(`{"name":"sgd"}`)}}})
		wantCode(t, "Experiments(config object)", err, expt.EINVALID)
	})

	t.Run("LastValues", func(t *testing.T) {
		f := newFixture(t, open)
		other := f.newExperiment(f.user.ID, "other")
		_, err := f.s.WriteScalars(f.ctx, f.expID, []expt.Scalar{
			{Step: 1, Mode: "train", Name: "loss", Value: 3}, {Step: 7, Mode: "train", Name: "loss", Value: 1},
			{Step: 5, Mode: "train", Name: "loss", Value: 2}, {Step: 2, Mode: "eval", Name: "acc", Value: math.NaN()},
		}, "")
		must(t, "WriteScalars", err)
		_, err = f.s.WriteScalars(f.ctx, other.ID, []expt.Scalar{{Step: 3, Mode: "train", Name: "loss", Value: 9}}, "")
		must(t, "WriteScalars", err)
		loss, acc := expt.MetricKey{Mode: "train", Name: "loss"}, expt.MetricKey{Mode: "eval", Name: "acc"}
		got, err := f.s.LastValues(f.ctx, []string{f.expID, other.ID, expt.NewUUID()}, []expt.MetricKey{loss, acc, {Mode: "train", Name: "none"}})
		must(t, "LastValues", err)
		if len(got) != 2 || got[f.expID][loss] != 1 || !math.IsNaN(got[f.expID][acc]) || len(got[f.expID]) != 2 ||
			got[other.ID][loss] != 9 || len(got[other.ID]) != 1 {
			t.Fatalf("LastValues = %v", got)
		}
	})
}
