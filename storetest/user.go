package storetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/expt-logger/expt"
)

func testUsers(t *testing.T, open func(t *testing.T) expt.Store) {
	t.Run("CreateAndFind", func(t *testing.T) {
		f := newFixture(t, open)
		if f.user.ID == 0 || f.user.CreatedAt.IsZero() {
			t.Fatalf("CreateUser did not set ID/CreatedAt: %+v", f.user)
		}
		u, err := f.s.UserByEmail(f.ctx, "OWNER@Example.com")
		must(t, "UserByEmail (other case)", err)
		if u.ID != f.user.ID || u.Email != "owner@example.com" || u.Name != f.user.Name {
			t.Fatalf("UserByEmail = %+v, want %+v", u, f.user)
		}
		u, err = f.s.UserByID(f.ctx, f.user.ID)
		must(t, "UserByID", err)
		if u.Email != f.user.Email || !u.CreatedAt.Equal(f.user.CreatedAt) {
			t.Fatalf("UserByID = %+v, want %+v", u, f.user)
		}
		_, err = f.s.UserByEmail(f.ctx, "nobody@example.com")
		wantCode(t, "UserByEmail(missing)", err, expt.ENOTFOUND)
		_, err = f.s.UserByID(f.ctx, f.user.ID+1000)
		wantCode(t, "UserByID(missing)", err, expt.ENOTFOUND)
		err = f.s.CreateUser(f.ctx, &expt.User{Email: "Owner@EXAMPLE.com"})
		wantCode(t, "CreateUser(duplicate email, other case)", err, expt.ECONFLICT)
	})

	t.Run("FirstUser", func(t *testing.T) {
		s := open(t)
		ctx := t.Context()
		_, err := s.FirstUser(ctx)
		wantCode(t, "FirstUser(empty)", err, expt.ENOTFOUND)
		a := &expt.User{Email: "a@x", CreatedAt: time.Now().Add(-time.Hour).UTC()}
		must(t, "CreateUser a", s.CreateUser(ctx, a))
		must(t, "CreateUser b", s.CreateUser(ctx, &expt.User{Email: "b@x"}))
		u, err := s.FirstUser(ctx)
		must(t, "FirstUser", err)
		if u.ID != a.ID {
			t.Fatalf("FirstUser = %d, want %d", u.ID, a.ID)
		}
	})

	t.Run("APIKeys", func(t *testing.T) {
		f := newFixture(t, open)
		other := f.newUser("other@example.com")
		_, hash, err := expt.NewToken(expt.KeyPrefix)
		must(t, "NewToken", err)
		k := &expt.APIKey{UserID: f.user.ID, Name: "laptop", Prefix: "expt_abc"}
		must(t, "CreateAPIKey", f.s.CreateAPIKey(f.ctx, k, hash))
		if k.ID == "" || k.CreatedAt.IsZero() {
			t.Fatalf("CreateAPIKey did not set ID/CreatedAt: %+v", k)
		}
		_, hash2, _ := expt.NewToken(expt.KeyPrefix)
		must(t, "CreateAPIKey other", f.s.CreateAPIKey(f.ctx, &expt.APIKey{UserID: other.ID, Name: "o"}, hash2))

		u, got, err := f.s.UserByAPIKey(f.ctx, bytes.Clone(hash))
		must(t, "UserByAPIKey", err)
		if u.ID != f.user.ID || got.ID != k.ID || got.Name != "laptop" || got.Prefix != "expt_abc" || got.UserID != f.user.ID {
			t.Fatalf("UserByAPIKey = %+v, %+v", u, got)
		}
		_, _, err = f.s.UserByAPIKey(f.ctx, expt.HashToken("expt_wrong"))
		wantCode(t, "UserByAPIKey(wrong)", err, expt.ENOTFOUND)

		keys, err := f.s.APIKeys(f.ctx, f.user.ID)
		must(t, "APIKeys", err)
		if len(keys) != 1 || keys[0].ID != k.ID || keys[0].LastUsedAt == nil {
			t.Fatalf("APIKeys = %+v, want the one key, marked used", keys)
		}
		// Deleting another user's key through this user does nothing.
		otherKeys, _ := f.s.APIKeys(f.ctx, other.ID)
		n, err := f.s.DeleteAPIKeys(f.ctx, f.user.ID, []string{otherKeys[0].ID, k.ID, "missing"})
		must(t, "DeleteAPIKeys", err)
		if n != 1 {
			t.Fatalf("DeleteAPIKeys = %d, want 1", n)
		}
		_, _, err = f.s.UserByAPIKey(f.ctx, hash)
		wantCode(t, "UserByAPIKey(deleted)", err, expt.ENOTFOUND)
		if _, _, err := f.s.UserByAPIKey(f.ctx, hash2); err != nil {
			t.Fatalf("other user's key was deleted: %v", err)
		}
	})

	t.Run("Sessions", func(t *testing.T) {
		f := newFixture(t, open)
		now := time.Now()
		h := expt.HashToken("session-token")
		must(t, "CreateSession", f.s.CreateSession(f.ctx, &expt.Session{TokenHash: h, UserID: f.user.ID, ExpiresAt: now.Add(time.Hour)}))
		u, err := f.s.UserBySession(f.ctx, h, now)
		must(t, "UserBySession", err)
		if u.ID != f.user.ID {
			t.Fatalf("UserBySession = %d, want %d", u.ID, f.user.ID)
		}
		_, err = f.s.UserBySession(f.ctx, h, now.Add(2*time.Hour))
		wantCode(t, "UserBySession(expired)", err, expt.ENOTFOUND)
		_, err = f.s.UserBySession(f.ctx, expt.HashToken("other"), now)
		wantCode(t, "UserBySession(unknown)", err, expt.ENOTFOUND)
		must(t, "DeleteSession", f.s.DeleteSession(f.ctx, h))
		_, err = f.s.UserBySession(f.ctx, h, now)
		wantCode(t, "UserBySession(deleted)", err, expt.ENOTFOUND)
	})
}
