package http_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/expt-logger/expt"
	exhttp "github.com/expt-logger/expt/http"
)

func signUp(c *client, email string) response {
	c.e.t.Helper()
	return c.do("POST", "/api/auth/sign-up/email", map[string]string{"email": email, "password": "correct horse"})
}

// TestSignUpPolicies: open lets anyone in; invite only an email a project
// owner added (which claims the invited account and its membership);
// closed nobody, and then owners cannot add emails without an account.
func TestSignUpPolicies(t *testing.T) {
	for _, policy := range []string{exhttp.SignUpOpen, exhttp.SignUpInvite, exhttp.SignUpClosed} {
		t.Run(policy, func(t *testing.T) {
			e := newEnv(t, exhttp.Config{SignUp: policy})
			// The admin exists already (made by expt users create).
			admin := &expt.User{Email: "admin@lab.org", Name: "admin"}
			admin.PasswordHash, _ = expt.HashPassword("correct horse")
			if err := e.store.CreateUser(context.Background(), admin); err != nil {
				t.Fatal(err)
			}
			owner := e.browser()
			owner.must(200, "POST", "/api/auth/sign-in/email", map[string]string{"email": "admin@lab.org", "password": "correct horse"}, nil)
			var p struct {
				ID int64 `json:"id"`
			}
			owner.must(201, "POST", "/api/projects", map[string]string{"name": "lab"}, &p)

			stranger := signUp(e.browser(), "stranger@lab.org")
			add := owner.do("POST", fmt.Sprintf("/api/projects/%d/members", p.ID), map[string]string{"email": "Invited@Lab.org", "role": "editor"})
			invitee := e.browser()
			claimed := signUp(invitee, "invited@lab.org")
			switch policy {
			case exhttp.SignUpOpen:
				if stranger.status != 200 || add.status != 201 || claimed.status != 200 {
					t.Fatalf("open: stranger %d, add %d %s, claim %d %s", stranger.status, add.status, add.body, claimed.status, claimed.body)
				}
			case exhttp.SignUpInvite:
				if stranger.status != 403 || add.status != 201 || claimed.status != 200 {
					t.Fatalf("invite: stranger %d %s, add %d, claim %d %s", stranger.status, stranger.body, add.status, claimed.status, claimed.body)
				}
			case exhttp.SignUpClosed:
				if stranger.status != 403 || add.status != 400 || claimed.status != 403 {
					t.Fatalf("closed: stranger %d, add %d %s, claim %d", stranger.status, add.status, add.body, claimed.status)
				}
				return
			}
			// The claimed account is the invited one: already an editor of lab.
			var ps struct {
				Projects []struct {
					Name, Role string
				} `json:"projects"`
			}
			invitee.must(200, "GET", "/api/projects", nil, &ps)
			if len(ps.Projects) != 2 || ps.Projects[0].Name != "invited@lab.org" || ps.Projects[1].Name != "lab" || ps.Projects[1].Role != "editor" {
				t.Fatalf("the invitee's projects: %+v", ps.Projects)
			}
			// Claimed once: a second sign-up with the email is taken.
			if r := signUp(e.browser(), "invited@lab.org"); r.status != 409 {
				t.Fatalf("second claim: %d %s", r.status, r.body)
			}
			var members struct {
				Members []struct {
					Email   string
					Invited bool
				} `json:"members"`
			}
			owner.must(200, "GET", fmt.Sprintf("/api/projects/%d/members", p.ID), nil, &members)
			if len(members.Members) != 2 || members.Members[1].Email != "invited@lab.org" || members.Members[1].Invited {
				t.Fatalf("members after the claim: %+v", members.Members)
			}
		})
	}
}

// TestDisabledUserIsLockedOutAtOnce: disabling an account (expt users
// disable writes the flag) stops its key, its session and its sign-in on
// the next request.
func TestDisabledUserIsLockedOutAtOnce(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	e.user("admin@example.com")
	browser, key := e.user("bob@example.com")
	e.withKey("Authorization", key).must(200, "GET", "/api/me", nil, nil)
	u, err := e.store.UserByEmail(context.Background(), "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}
	yes := true
	if _, err := e.store.UpdateUser(context.Background(), u.ID, expt.UserUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	for name, r := range map[string]response{
		"key":     e.withKey("Authorization", key).do("GET", "/api/me", nil),
		"session": browser.do("GET", "/api/me", nil),
		"sign-in": e.browser().do("POST", "/api/auth/sign-in/email", map[string]string{"email": "bob@example.com", "password": "correct horse"}),
	} {
		if r.status != 401 || r.error() == "" {
			t.Errorf("disabled user's %s: %d %s", name, r.status, r.body)
		}
	}
}

// TestMembersKeepAnOwner: the last owner can be neither demoted nor
// removed, and an editor cannot manage members.
func TestMembersKeepAnOwner(t *testing.T) {
	e := newEnv(t, exhttp.Config{})
	e.user("admin@example.com")
	owner, _ := e.user("owner@example.com")
	_, editorKey := e.user("editor@example.com")
	var p struct {
		ID int64 `json:"id"`
	}
	owner.must(201, "POST", "/api/projects", map[string]string{"name": "lab"}, &p)
	base := fmt.Sprintf("/api/projects/%d/members", p.ID)
	var ed struct {
		UserID int64 `json:"userId"`
	}
	owner.must(201, "POST", base, map[string]string{"email": "editor@example.com", "role": "editor"}, &ed)
	owner.must(409, "POST", base, map[string]string{"email": "editor@example.com", "role": "viewer"}, nil)
	owner.must(400, "POST", base, map[string]string{"email": "editor@example.com", "role": "admin"}, nil)
	var me struct {
		User struct {
			ID int64 `json:"id"`
		} `json:"user"`
	}
	owner.must(200, "GET", "/api/me", nil, &me)
	self := fmt.Sprintf("%s/%d", base, me.User.ID)
	owner.must(409, "PATCH", self, map[string]string{"role": "viewer"}, nil)
	owner.must(409, "DELETE", self, map[string]any{}, nil)
	e.withKey("Authorization", editorKey).must(403, "PATCH", fmt.Sprintf("%s/%d", base, ed.UserID), map[string]string{"role": "owner"}, nil)
	// With a second owner the first may step down.
	owner.must(200, "PATCH", fmt.Sprintf("%s/%d", base, ed.UserID), map[string]string{"role": "owner"}, nil)
	owner.must(200, "PATCH", self, map[string]string{"role": "viewer"}, nil)
	owner.must(403, "DELETE", fmt.Sprintf("/api/projects/%d", p.ID), map[string]any{}, nil)
}
