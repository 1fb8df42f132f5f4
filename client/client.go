package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/expt-logger/expt"
)

// Client calls one server with one API key. It is safe for concurrent use.
type Client struct {
	base string
	key  string
	// HTTP is the client requests go through; New gives one without an
	// overall timeout (exports stream for as long as they take): requests
	// end with their context.
	HTTP *http.Client
}

// New returns a client of the server at baseURL ("http://127.0.0.1:8080")
// using apiKey (empty for none).
func New(baseURL, apiKey string) *Client {
	return &Client{base: strings.TrimRight(baseURL, "/"), key: apiKey, HTTP: &http.Client{}}
}

// BaseURL is the server's address.
func (c *Client) BaseURL() string { return c.base }

// Error is a refusal by the server: its status and its message.
type Error struct {
	Status  int
	Message string
	Method  string
	Path    string

	retryAfter int // seconds, from Retry-After
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s: %d %s", e.Method, e.Path, e.Status, e.Message)
}

// IsNotFound reports whether err is the server's 404: missing, or not the
// caller's to see.
func IsNotFound(err error) bool { return statusOf(err) == http.StatusNotFound }

// IsUnauthorized reports whether err is the server's 401: a missing or wrong key.
func IsUnauthorized(err error) bool { return statusOf(err) == http.StatusUnauthorized }

func statusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// retryable reports whether a request that failed with err may succeed if
// sent again: the server could not be reached, or said it was busy.
func retryable(err error) bool {
	var e *Error
	if !errors.As(err, &e) {
		return !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
	}
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// request sends one request and returns the response for the caller to
// read and close, or the server's refusal as an *Error.
func (c *Client) request(ctx context.Context, method, path string, query url.Values, body any, hdr map[string]string) (*http.Response, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("%s %s: encode: %w", method, path, err)
		}
		rd = bytes.NewReader(b)
	}
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	req.Header.Set("User-Agent", "expt-go/"+expt.Version)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 400 {
		defer resp.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var e struct {
			Error string `json:"error"`
		}
		msg := strings.TrimSpace(string(b))
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			msg = e.Error
		}
		ra, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return nil, &Error{Status: resp.StatusCode, Message: msg, Method: method, Path: path, retryAfter: ra}
	}
	return resp, nil
}

// busyRetries is how many times a read answered 503 or 429 (the server
// at a limit of its own, such as its few export slots) is sent again,
// after the Retry-After it asks for (at most 10 s).
const busyRetries = 5

// get is request for a read: sent again while the server says it is busy.
func (c *Client) get(ctx context.Context, path string, query url.Values, hdr map[string]string) (*http.Response, error) {
	for n := 0; ; n++ {
		resp, err := c.request(ctx, "GET", path, query, nil, hdr)
		var e *Error
		if n == busyRetries || !errors.As(err, &e) || (e.Status != http.StatusServiceUnavailable && e.Status != http.StatusTooManyRequests) {
			return resp, err
		}
		wait := min(time.Duration(e.retryAfter)*time.Second, 10*time.Second)
		if wait <= 0 {
			wait = backoff(n)
		}
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(wait):
		}
	}
}

// call sends a request and decodes a JSON answer into out (nil: none).
func (c *Client) call(ctx context.Context, method, path string, query url.Values, body, out any) error {
	var resp *http.Response
	var err error
	if method == "GET" {
		resp, err = c.get(ctx, path, query, nil)
	} else {
		resp, err = c.request(ctx, method, path, query, body, nil)
	}
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode: %w", method, path, err)
	}
	return nil
}

// backoff is the wait before retry n (from 0): 0.5 s doubling to 30 s.
func backoff(n int) time.Duration {
	return min(500*time.Millisecond<<min(n, 6), 30*time.Second)
}

func esc(id string) string { return url.PathEscape(id) }
