package http

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/expt-logger/expt"
)

// Request bodies are the one thing a client, signed in or not, can make the
// server hold in memory at will. These bound it whatever clients do:
//   - a body is read into a buffer that grows with the bytes received, never
//     sized from the announced Content-Length;
//   - the whole body must arrive within BodyReadTimeout, so a slow upload is
//     cut and its connection closed;
//   - the public routes (sign-up, sign-in) take at most authMaxBody;
//   - all bodies being read or held by handlers share one budget of bytes,
//     past which a request is answered 503 with Retry-After at once; gzip
//     bodies, read in full first, share a decoder per core (a second's wait
//     for one, then 503).

// Defaults for the Config fields of the same names.
const (
	DefaultBodyReadTimeout = 20 * time.Second
	// authMaxBody bounds the body of a public route: an email, a password
	// and a name.
	authMaxBody = 64 << 10
	// bodyChunk is the first chunk a body is read into; later ones double
	// up to maxChunk.
	bodyChunk = 32 << 10
	maxChunk  = 1 << 20
)

// DefaultInflightBodyBytes is the budget when Config leaves it 0: room for
// a few full-size bodies at once.
func DefaultInflightBodyBytes(maxBody int64) int64 { return max(128<<20, 4*maxBody) }

// bodyBudget is the server-wide count of request-body bytes in memory.
type bodyBudget struct {
	used  atomic.Int64
	limit int64
	// gunzip holds a token per gzip body being inflated.
	gunzip chan struct{}
}

func newBodyBudget(limit int64, gunzip int) *bodyBudget {
	return &bodyBudget{limit: limit, gunzip: make(chan struct{}, gunzip)}
}

// reserve takes n bytes of the budget, or fails at once.
func (b *bodyBudget) reserve(n int64) bool {
	if b.used.Add(n) > b.limit {
		b.used.Add(-n)
		return false
	}
	return true
}

func (b *bodyBudget) release(n int64) { b.used.Add(-n) }

// decoderWait is how long a gzip body, already read, waits for a decoder:
// decoding is CPU work only, so a slot frees up quickly unless the server
// is flooded.
const decoderWait = time.Second

// decoder takes a gzip decoder slot, waiting up to decoderWait.
func (b *bodyBudget) decoder(ctx context.Context) (release func(), err error) {
	if release, ok := acquire(ctx, b.gunzip, decoderWait); ok {
		return release, nil
	}
	return nil, expt.Errorf(expt.EUNAVAILABLE, "the server is inflating too many gzip bodies at once; retry shortly")
}

// acquire takes one of slots' tokens, waiting up to wait (or until ctx
// ends); release gives it back.
func acquire(ctx context.Context, slots chan struct{}, wait time.Duration) (release func(), ok bool) {
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case slots <- struct{}{}:
		return func() { <-slots }, true
	case <-t.C:
	case <-ctx.Done():
	}
	return nil, false
}

// bodyAccount is one request's share of the budget, released when the
// request's handler returns (the body lives until then).
type bodyAccount struct {
	budget   *bodyBudget
	reserved int64
	limit    int64 // this route's body limit
}

type bodyAccountKey struct{}

// withBodyAccount gives r an account against budget for bodies up to limit;
// done releases it.
func withBodyAccount(r *http.Request, budget *bodyBudget, limit int64) (*http.Request, func()) {
	a := &bodyAccount{budget: budget, limit: limit}
	return r.WithContext(context.WithValue(r.Context(), bodyAccountKey{}, a)), func() { budget.release(a.reserved) }
}

func accountOf(ctx context.Context) *bodyAccount {
	a, _ := ctx.Value(bodyAccountKey{}).(*bodyAccount)
	return a
}

// grow reserves n more bytes for this request.
func (a *bodyAccount) grow(n int64) error {
	if !a.budget.reserve(n) {
		return expt.Errorf(expt.EUNAVAILABLE, "the server is reading too many request bodies at once; retry shortly")
	}
	a.reserved += n
	return nil
}
