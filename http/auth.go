package http

import (
	"context"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/api"
)

const (
	sessionCookie = "expt_session"
	sessionTTL    = 30 * 24 * time.Hour
)

type ctxKey int

const (
	userKey ctxKey = iota
	viaCookieKey
	apiKeyKey
)

// userFrom returns the user that wrap authenticated.
func userFrom(r *http.Request) *expt.User {
	u, _ := r.Context().Value(userKey).(*expt.User)
	return u
}

// authenticate finds the caller by API key (Authorization: Bearer or
// x-api-key) or, failing both, by session cookie. A key is looked up by its
// SHA-256, so comparing secrets never happens in variable time.
func (s *Server) authenticate(r *http.Request) (context.Context, error) {
	ctx := r.Context()
	key := ""
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return nil, expt.Errorf(expt.EUNAUTHORIZED, "Authorization header must be \"Bearer <api key>\"")
		}
		key = strings.TrimSpace(token)
	} else if h := r.Header.Get("x-api-key"); h != "" {
		key = strings.TrimSpace(h)
	}
	if key != "" {
		u, k, err := s.store.UserByAPIKey(ctx, expt.HashToken(key))
		if expt.ErrorCode(err) == expt.ENOTFOUND {
			return nil, expt.Errorf(expt.EUNAUTHORIZED, "invalid API key")
		} else if err != nil {
			return nil, err
		}
		if u.Disabled {
			return nil, errDisabled
		}
		if k.Access == "" {
			k.Access = expt.AccessFull
		}
		return context.WithValue(context.WithValue(ctx, userKey, u), apiKeyKey, k), nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return nil, expt.Errorf(expt.EUNAUTHORIZED, "missing API key: send Authorization: Bearer <key> or x-api-key")
	}
	u, err := s.store.UserBySession(ctx, expt.HashToken(c.Value), s.now())
	if expt.ErrorCode(err) == expt.ENOTFOUND {
		return nil, expt.Errorf(expt.EUNAUTHORIZED, "session expired or signed out")
	} else if err != nil {
		return nil, err
	}
	if u.Disabled {
		return nil, errDisabled
	}
	if err := checkCSRF(r); err != nil {
		return nil, err
	}
	ctx = context.WithValue(ctx, userKey, u)
	return context.WithValue(ctx, viaCookieKey, true), nil
}

var errDisabled = expt.Errorf(expt.EUNAUTHORIZED, "this account is disabled; ask the server's admin")

// checkCSRF protects cookie-authenticated writes: a cross-site form cannot
// send Content-Type: application/json without a CORS preflight we never
// answer, and a browser's Origin must name this host.
func checkCSRF(r *http.Request) error {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return nil
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		return invalid("Content-Type must be application/json")
	}
	return checkOrigin(r)
}

func checkOrigin(r *http.Request) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || !strings.EqualFold(u.Host, r.Host) {
		return expt.Errorf(expt.EUNAUTHORIZED, "Origin %q does not match this server", origin)
	}
	return nil
}

// isHTTPS reports whether the client reached us over TLS, directly or
// through a proxy that says so.
func isHTTPS(r *http.Request) bool {
	return r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https")
}

// clientIP is the peer address used to key sign-in throttling.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (s *Server) signUp(w http.ResponseWriter, r *http.Request) error {
	if err := checkOrigin(r); err != nil {
		return err
	}
	var req api.SignUpRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	email := expt.NormalizeEmail(req.Email)
	if at := strings.IndexByte(email, '@'); at <= 0 || at == len(email)-1 || len(email) > 254 {
		return invalid("email must be an email address")
	}
	release, err := s.hashSlot(r.Context())
	if err != nil {
		return err
	}
	hash, err := expt.HashPassword(req.Password)
	release()
	if err != nil {
		return err
	}
	name := strings.TrimSpace(req.Name)
	if name == "" {
		name = email[:strings.IndexByte(email, '@')]
	}
	u, err := s.newAccount(r.Context(), email, name, hash)
	if err != nil {
		return err
	}
	if err := s.startSession(w, r, u); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.UserResponse{User: api.UserOf(u)})
}

// newAccount makes the account of a sign-up, or claims the one an
// invitation made for this email, as the sign-up policy allows.
func (s *Server) newAccount(ctx context.Context, email, name, hash string) (*expt.User, error) {
	u, err := s.store.UserByEmail(ctx, email)
	switch {
	case err == nil && u.Invited && !u.Disabled && s.signUpPolicy != SignUpClosed:
		invited := false
		return s.store.UpdateUser(ctx, u.ID, expt.UserUpdate{Name: &name, PasswordHash: &hash, Invited: &invited})
	case err == nil:
		return nil, expt.Errorf(expt.ECONFLICT, "email %q is already registered", email)
	case expt.ErrorCode(err) != expt.ENOTFOUND:
		return nil, err
	case s.signUpPolicy == SignUpClosed:
		return nil, expt.Errorf(expt.EFORBIDDEN, "sign-up is closed on this server: ask its admin for an account (expt users create)")
	case s.signUpPolicy == SignUpInvite:
		return nil, expt.Errorf(expt.EFORBIDDEN, "sign-up on this server is by invitation: ask a project owner to add %s as a member first", email)
	}
	u = &expt.User{Email: email, Name: name, PasswordHash: hash}
	if err := s.store.CreateUser(ctx, u); err != nil {
		return nil, err
	}
	return u, nil
}

// hashWait is how long a sign-in waits for a password-hashing slot before
// it is answered 503. Waiting costs no CPU; a second covers a few sign-ins
// at once even on a loaded two-core machine, where one slot is all there is
// and a bcrypt can take 150 ms (at 250 ms, schemathesis's two workers signing
// up together were answered 503 in CI).
const hashWait = time.Second

// hashSlot takes one of the few password-hashing slots, or fails fast.
// bcrypt costs ~50 ms of a core per attempt, so without a bound a flood of
// sign-ins, which need no credentials, would take every core from
// authenticated writes (64 at once took a 0.7 ms write to 300 ms).
func (s *Server) hashSlot(ctx context.Context) (release func(), err error) {
	if s.hashing == nil {
		return func() {}, nil
	}
	if release, ok := acquire(ctx, s.hashing, hashWait); ok {
		return release, nil
	}
	return nil, expt.Errorf(expt.EUNAVAILABLE, "too many sign-ins at once; retry in a second")
}

// timingOnlyHash is a bcrypt hash (default cost) of a password no one has;
// sign-in compares against it when there is no real hash to compare with.
const timingOnlyHash = "$2a$10$61Q6gmDcXYGDEl2/NzPoWOLrT9seMUOnt.DbGC2R6.XZhUsbhzDpu"

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) error {
	if err := checkOrigin(r); err != nil {
		return err
	}
	var req api.SignInRequest
	if err := s.decodeJSON(w, r, &req); err != nil {
		return err
	}
	email := expt.NormalizeEmail(req.Email)
	tkey := email + "|" + clientIP(r)
	wait, err := s.throttle.Blocked(r.Context(), tkey, s.now())
	if err != nil {
		return fmt.Errorf("sign-in throttle: %w", err)
	}
	if wait > 0 {
		w.Header().Set("Retry-After", retryAfter(wait))
		return expt.Errorf(expt.ETOOMANY, "too many failed sign-in attempts; retry in %s", retryAfter(wait)+" seconds")
	}
	u, err := s.store.UserByEmail(r.Context(), email)
	if err != nil && expt.ErrorCode(err) != expt.ENOTFOUND {
		return err
	}
	// An unknown email (or a user without a password) still pays for one
	// bcrypt comparison, so the answer's timing does not tell which emails
	// have accounts.
	hash := timingOnlyHash
	if u != nil && u.PasswordHash != "" {
		hash = u.PasswordHash
	}
	release, err := s.hashSlot(r.Context())
	if err != nil {
		return err
	}
	ok := expt.CheckPassword(hash, req.Password)
	release()
	if !ok || hash == timingOnlyHash {
		if err := s.throttle.Fail(r.Context(), tkey, s.now()); err != nil {
			return fmt.Errorf("sign-in throttle: %w", err)
		}
		return expt.Errorf(expt.EUNAUTHORIZED, "wrong email or password")
	}
	if err := s.throttle.Reset(r.Context(), tkey); err != nil {
		return fmt.Errorf("sign-in throttle: %w", err)
	}
	if u.Disabled {
		return errDisabled
	}
	if err := s.startSession(w, r, u); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, api.UserResponse{User: api.UserOf(u)})
}

func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *expt.User) error {
	token, hash, err := expt.NewToken("")
	if err != nil {
		return err
	}
	expires := s.now().Add(sessionTTL)
	if err := s.store.CreateSession(r.Context(), &expt.Session{TokenHash: hash, UserID: u.ID, ExpiresAt: expires}); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name:     sessionCookie,
		Value:    token,
		Path:     "/",
		Expires:  expires,
		MaxAge:   int(sessionTTL / time.Second),
		HttpOnly: true,
		Secure:   isHTTPS(r),
		SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// signOut deletes the session and clears the cookie. It needs no valid
// session, so a stale cookie can always be cleared.
func (s *Server) signOut(w http.ResponseWriter, r *http.Request) error {
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		if err := checkCSRF(r); err != nil {
			return err
		}
		if err := s.store.DeleteSession(r.Context(), expt.HashToken(c.Value)); err != nil && expt.ErrorCode(err) != expt.ENOTFOUND {
			return err
		}
		s.revoke()
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, Secure: isHTTPS(r), SameSite: http.SameSiteLaxMode,
	})
	return writeJSON(w, http.StatusOK, api.Success{Success: true})
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, api.UserResponse{User: api.UserOf(userFrom(r))})
}
