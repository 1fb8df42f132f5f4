package expt

import (
	"errors"
	"fmt"
)

// Error codes. The HTTP layer maps each to one status; everything that is
// not an *Error is internal and answers 500 without leaking its text.
const (
	EINVALID       = "invalid"       // 400: bad input, the message names the field
	EUNAUTHORIZED  = "unauthorized"  // 401: missing or wrong credentials
	EFORBIDDEN     = "forbidden"     // 403: the caller sees it, but their role or key may not do this
	ENOTFOUND      = "not_found"     // 404: missing, or not the caller's to see
	ECONFLICT      = "conflict"      // 409: the id or email is already taken
	ETOOLARGE      = "too_large"     // 413: body or batch over a limit
	ETOOMANY       = "too_many"      // 429: throttled
	EUNPROCESSABLE = "unprocessable" // 422: well-formed, but contradicts what was stored (a reused Idempotency-Key)
	EUNAVAILABLE   = "unavailable"   // 503: the server is at a limit of its own; retry shortly
	ENOSPACE       = "no_space"      // 507: the server's storage is full
	EINTERNAL      = "internal"      // 500
)

// Error is an error meant for the caller: Message is a human sentence that
// names what was wrong and is safe to show.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("expt: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other error and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err: the *Error's message,
// or a generic sentence for internal errors.
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}
