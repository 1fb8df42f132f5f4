package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/sqlite"
)

// runWith runs the CLI with stdin and returns stdout, stderr and the error.
func runWith(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	old := Stdin
	Stdin = strings.NewReader(stdin)
	defer func() { Stdin = old }()
	var o, e bytes.Buffer
	err := Run(context.Background(), args, &o, &e)
	return o.String(), e.String(), err
}

// TestUsersCommands walks expt users create (password from stdin, and
// made up and printed once), list, set-password, disable and enable, and
// keys create limited to a project, checking the database after each.
func TestUsersCommands(t *testing.T) {
	dir := t.TempDir()
	db := []string{"--data", dir}
	ctx := context.Background()
	check := func(email string) *expt.User {
		t.Helper()
		s, err := sqlite.Open(ctx, dir+"/expt.db")
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		u, err := s.UserByEmail(ctx, email)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}

	if _, _, err := runWith(t, "", append([]string{"keys", "create", "--name", "k"}, db...)...); err == nil || !strings.Contains(err.Error(), "expt users create") {
		t.Fatalf("keys create on an empty database: %v", err)
	}
	out, _, err := runWith(t, "a long password\n", append([]string{"users", "create", "--email", "Ada@Lab.org", "--password-stdin"}, db...)...)
	if err != nil || out != "" {
		t.Fatalf("users create --password-stdin: %q, %v", out, err)
	}
	ada := check("ada@lab.org")
	if !ada.Admin || !expt.CheckPassword(ada.PasswordHash, "a long password") {
		t.Fatalf("ada = %+v: want the admin, with the password from stdin", ada)
	}
	out, _, err = runWith(t, "", append([]string{"users", "create", "--email", "bob@lab.org"}, db...)...)
	made := strings.TrimSpace(out)
	if err != nil || !regexp.MustCompile(`^[A-Za-z0-9]{20}$`).MatchString(made) {
		t.Fatalf("users create without a password printed %q, %v", out, err)
	}
	if bob := check("bob@lab.org"); bob.Admin || !expt.CheckPassword(bob.PasswordHash, made) {
		t.Fatalf("bob = %+v: want a user with the printed password", bob)
	}
	if _, _, err := runWith(t, "", append([]string{"users", "create", "--email", "bob@lab.org"}, db...)...); err == nil || !strings.Contains(err.Error(), "already has an account") {
		t.Fatalf("users create of a taken email: %v", err)
	}
	if _, _, err := runWith(t, "short\n", append([]string{"users", "create", "--email", "c@lab.org", "--password-stdin"}, db...)...); err == nil || !strings.Contains(err.Error(), "at least 8") {
		t.Fatalf("a short password: %v", err)
	}

	if _, _, err := runWith(t, "another password\n", append([]string{"users", "set-password", "--email", "bob@lab.org", "--password-stdin"}, db...)...); err != nil {
		t.Fatal(err)
	}
	if !expt.CheckPassword(check("bob@lab.org").PasswordHash, "another password") {
		t.Fatal("set-password did not set it")
	}
	if _, _, err := runWith(t, "", append([]string{"users", "disable", "--email", "bob@lab.org"}, db...)...); err != nil || !check("bob@lab.org").Disabled {
		t.Fatalf("disable: %v", err)
	}
	if _, _, err := runWith(t, "", append([]string{"keys", "create", "--name", "k", "--email", "bob@lab.org"}, db...)...); err == nil || !strings.Contains(err.Error(), "disabled") {
		t.Fatalf("keys create for a disabled user: %v", err)
	}
	out, _, err = runWith(t, "", append([]string{"users", "list"}, db...)...)
	if err != nil || !regexp.MustCompile(`ada@lab.org\s+ada\s+admin\s+active`).MatchString(out) || !regexp.MustCompile(`bob@lab.org\s+bob\s+user\s+disabled`).MatchString(out) {
		t.Fatalf("users list:\n%s (%v)", out, err)
	}
	if _, _, err := runWith(t, "", append([]string{"users", "enable", "--email", "bob@lab.org"}, db...)...); err != nil || check("bob@lab.org").Disabled {
		t.Fatalf("enable: %v", err)
	}

	// A key limited to a project needs the project, and a member.
	if _, _, err := runWith(t, "", append([]string{"keys", "create", "--name", "job", "--project", "nope"}, db...)...); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("keys create --project of a missing project: %v", err)
	}
	if _, _, err := runWith(t, "", append([]string{"keys", "create", "--name", "job", "--access", "admin"}, db...)...); err == nil || !strings.Contains(err.Error(), "--access") {
		t.Fatalf("keys create --access admin: %v", err)
	}
	s, err := sqlite.Open(ctx, dir+"/expt.db")
	if err != nil {
		t.Fatal(err)
	}
	p := &expt.Project{Name: "math"}
	if err := s.CreateProject(ctx, p, ada.ID); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, _, err := runWith(t, "", append([]string{"keys", "create", "--name", "job", "--project", "math", "--email", "bob@lab.org"}, db...)...); err == nil || !strings.Contains(err.Error(), "not a member") {
		t.Fatalf("keys create for a project bob is not in: %v", err)
	}
	out, _, err = runWith(t, "", append([]string{"keys", "create", "--name", "job", "--project", "math", "--access", "write"}, db...)...)
	if err != nil {
		t.Fatal(err)
	}
	s, _ = sqlite.Open(ctx, dir+"/expt.db")
	defer s.Close()
	_, k, err := s.UserByAPIKey(ctx, expt.HashToken(strings.TrimSpace(out)))
	if err != nil || k.ProjectID != p.ID || k.Access != expt.AccessWrite || k.UserID != ada.ID {
		t.Fatalf("project key = %+v, %v", k, err)
	}
}
