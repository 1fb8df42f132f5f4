package http

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/expt-logger/expt"
)

// readBody returns the request body, gunzipped when Content-Encoding says
// so, within the bounds of bodies.go. The limit applies to the decompressed
// size: a small gzip bomb must not become a huge allocation.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	acct := accountOf(r.Context())
	if acct == nil { // called outside wrap (unit tests): an account of its own
		var done func()
		r, done = withBodyAccount(r, s.bodies, s.maxBody)
		defer done()
		acct = accountOf(r.Context())
	}
	limit := acct.limit
	tooLarge := expt.Errorf(expt.ETOOLARGE, "request body exceeds the %d-byte limit", limit)
	var src io.Reader = r.Body
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	switch enc {
	case "", "identity":
		if r.ContentLength > limit {
			// Known to be too large: answer before reading any of it.
			return nil, tooLarge
		}
	case "gzip":
		if r.ContentLength > limit {
			return nil, tooLarge // compressed, already over the limit
		}
	default:
		return nil, invalid("Content-Encoding %q is not supported; use gzip or none", enc)
	}
	// The whole body must arrive in time, however slowly it trickles.
	rc := http.NewResponseController(w)
	if err := rc.SetReadDeadline(time.Now().Add(s.bodyTimeout)); err == nil {
		defer rc.SetReadDeadline(time.Time{})
	}
	if enc == "gzip" {
		// The compressed bytes are read first, at the network's pace, and
		// only then is a decoder taken: a slow upload must not hold one
		// (two trickling clients would have stopped every gzip upload).
		packed, err := readLimited(r.Body, limit, acct)
		if err != nil {
			return nil, s.readError(w, err, false, tooLarge)
		}
		release, err := s.bodies.decoder(r.Context())
		if err != nil {
			return nil, err
		}
		defer release()
		zr, err := gzip.NewReader(bytes.NewReader(packed))
		if err != nil {
			return nil, invalid("request body is not valid gzip: %v", err)
		}
		defer zr.Close()
		src = zr
	}
	b, err := readLimited(src, limit, acct)
	if err != nil {
		return nil, s.readError(w, err, enc == "gzip", tooLarge)
	}
	if !utf8.Valid(b) {
		return nil, invalid("request body is not valid UTF-8")
	}
	// PostgreSQL refuses NUL in text, which made such a batch a 500 there
	// (and a poison batch that a client retries for ever); refuse it on
	// every store so that both behave alike.
	if i := nulIndex(b); i >= 0 {
		return nil, invalid("request body has a NUL character (\\u0000) at byte %d; text must not contain NUL", i)
	}
	return b, nil
}

// readError is the answer to a failed body read; inflating says the read
// was of a gzip stream, whose own errors are the client's bad gzip.
func (s *Server) readError(w http.ResponseWriter, err error, inflating bool, tooLarge error) error {
	switch {
	case errors.Is(err, errTooLarge):
		return tooLarge
	case expt.ErrorCode(err) == expt.EUNAVAILABLE:
		w.Header().Set("Connection", "close") // the rest of the body is not read
		return err
	case errors.Is(err, os.ErrDeadlineExceeded):
		return s.slowBody(w)
	case inflating && (errors.Is(err, gzip.ErrChecksum) || errors.Is(err, gzip.ErrHeader) || errors.Is(err, io.ErrUnexpectedEOF)):
		return invalid("request body is not valid gzip: %v", err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		// The client hung up mid-body: its fault, and nothing to log.
		return invalid("request body ended early")
	}
	return fmt.Errorf("read body: %w", err)
}

// slowBody is the answer to a body that did not arrive within bodyTimeout;
// the connection is closed after it.
func (s *Server) slowBody(w http.ResponseWriter) error {
	w.Header().Set("Connection", "close")
	return expt.Errorf(codeTimeout, "the request body did not arrive within %s", s.bodyTimeout)
}

var errTooLarge = errors.New("body over its limit")

// readLimited reads src to its end, charging acct for what it holds:
// chunks that grow with what arrives (from bodyChunk, doubling up to
// maxChunk), joined at the end into one buffer of the exact size. A body
// past limit is refused having held at most limit bytes; a complete one
// costs at most about three times its size (chunks, the last part-filled,
// then the join), briefly, and never the size it announced.
func readLimited(src io.Reader, limit int64, acct *bodyAccount) ([]byte, error) {
	var chunks [][]byte
	total := int64(0)
	size := int64(bodyChunk)
	for {
		n := min(size, limit+1-total)
		if err := acct.grow(n); err != nil {
			return nil, err
		}
		c := make([]byte, n)
		m, err := fill(src, c)
		total += int64(m)
		chunks = append(chunks, c[:m])
		if total > limit {
			return nil, errTooLarge
		}
		if err == io.EOF {
			break // the body ended inside this chunk
		} else if err != nil {
			return nil, err
		}
		size = min(2*size, maxChunk)
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	if err := acct.grow(total); err != nil {
		return nil, err
	}
	out := make([]byte, 0, total)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out, nil
}

// fill reads into c until it is full or src ends (io.EOF) or fails; unlike
// io.ReadFull it passes src's own errors through, such as a truncated gzip
// stream's io.ErrUnexpectedEOF.
func fill(src io.Reader, c []byte) (int, error) {
	n := 0
	for n < len(c) {
		m, err := src.Read(c[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// nulIndex returns the offset of the first NUL in a JSON text, raw or as a
// \u0000 escape (one not itself escaped, as in "\\u0000"), or -1.
func nulIndex(b []byte) int {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		return i
	}
	for off := 0; ; {
		i := bytes.Index(b[off:], []byte(`\u0000`))
		if i < 0 {
			return -1
		}
		i += off
		n := 0
		for j := i; j >= 0 && b[j] == '\\'; j-- {
			n++
		}
		if n%2 == 1 {
			return i
		}
		off = i + 1
	}
}

// decodeJSON reads the body into v, refusing unknown fields and trailing data.
func (s *Server) decodeJSON(w http.ResponseWriter, r *http.Request, v any) error {
	body, err := s.readBody(w, r)
	if err != nil {
		return err
	}
	return unmarshalStrict(body, v, "")
}

// unmarshalStrict decodes one JSON value into v and names the offending
// field, prefixed with path (such as "rollouts[3]"), in its error.
func unmarshalStrict(data []byte, v any, path string) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return invalid("request body is empty; send a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err, path)
	}
	if _, err := dec.Token(); err != io.EOF {
		return invalid("malformed JSON: unexpected data after the top-level value")
	}
	return checkKeys(data, reflect.TypeOf(v), path)
}

// jsonError turns an encoding/json error into a caller-safe sentence.
func jsonError(err error, path string) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return invalid("malformed JSON at byte %d: %s", syn.Offset, strings.TrimPrefix(syn.Error(), "json: "))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("malformed JSON: unexpected end of input")
	case errors.As(err, &typ):
		field := joinPath(path, typ.Field)
		if field == "" {
			field = "body"
		}
		if typ.Value == "bool" && strings.Contains(typ.Type.String(), "float") {
			return invalid("%s: booleans are not numbers", field)
		}
		return invalid("%s: must be %s, not %s", field, jsonTypeName(typ.Type.String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.TrimPrefix(err.Error(), "json: unknown field ")
		if path != "" {
			return invalid("%s: unknown field %s", path, name)
		}
		return invalid("unknown field %s", name)
	}
	var e *expt.Error
	if errors.As(err, &e) {
		// Raised by an UnmarshalJSON method; give it its place.
		if path != "" {
			return invalid("%s: %s", path, e.Message)
		}
		return e
	}
	return invalid("malformed JSON: %s", strings.TrimPrefix(err.Error(), "json: "))
}

func joinPath(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "." + b
}

func jsonTypeName(goType string) string {
	switch {
	case strings.Contains(goType, "int"):
		return "an integer"
	case strings.Contains(goType, "float"):
		return "a number"
	case goType == "string", goType == "*string":
		return "a string"
	case goType == "bool", goType == "*bool":
		return "a boolean"
	case strings.HasPrefix(goType, "[]"):
		return "an array"
	case strings.HasPrefix(goType, "map"), strings.HasPrefix(goType, "struct"):
		return "an object"
	}
	return "of type " + goType
}

// idempotencyKey returns the Idempotency-Key header: 1..200 printable ASCII
// characters, or "" when absent.
func idempotencyKey(r *http.Request) (string, error) {
	vals := r.Header.Values("Idempotency-Key")
	if len(vals) == 0 {
		return "", nil
	}
	k := vals[0]
	if len(vals) > 1 || len(k) == 0 || len(k) > 200 {
		return "", invalid("Idempotency-Key must be one value of 1 to 200 printable ASCII characters")
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return "", invalid("Idempotency-Key must be one value of 1 to 200 printable ASCII characters")
		}
	}
	return k, nil
}
