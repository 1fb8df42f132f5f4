package http

import (
	"encoding/json"
	"fmt"

	"github.com/expt-logger/expt"
	"github.com/expt-logger/expt/api"
)

// decodeScalars parses {"scalars":[{"step","mode","name"|"type","value","ts"?},...]}.
//
// This is the ingestion hot path, so it is a small hand-written scanner for
// exactly this shape instead of encoding/json plus per-value UnmarshalJSON
// calls. It accepts the same JSON as encoding/json (FuzzDecodeScalars checks
// it against a decoder built on encoding/json) and names the failing point.
// Measured side by side on 1,000-point batches (2 cores, BenchmarkDecodeScalars
// against BenchmarkDecodeScalarsEncodingJSON and, with GOEXPERIMENT=jsonv2,
// BenchmarkDecodeScalarsJSONv2): 240 ns per point and 8 allocations per
// batch, against 890 ns and 5,021 through encoding/json, and 500 ns and
// 3,014 through encoding/json/v2. v2 halves the gap, not enough to drop this.
// body must be valid UTF-8 (readBody checks).
func decodeScalars(body []byte) ([]expt.Scalar, error) {
	d := scalarDecoder{b: body, intern: make(map[string]string, 8)}
	out, err := d.decode()
	if err != nil {
		return nil, err
	}
	return out, nil
}

type scalarDecoder struct {
	b      []byte
	i      int
	intern map[string]string // mode and name strings repeat across a batch
}

func (d *scalarDecoder) syntax(what string) error {
	if d.i >= len(d.b) {
		return invalid("malformed JSON: unexpected end of input, expected %s", what)
	}
	return invalid("malformed JSON at byte %d: expected %s", d.i, what)
}

func (d *scalarDecoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// consume skips whitespace and then c; false when the next byte is not c.
func (d *scalarDecoder) consume(c byte) bool {
	d.ws()
	if d.i < len(d.b) && d.b[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *scalarDecoder) decode() ([]expt.Scalar, error) {
	var out []expt.Scalar
	seen := false
	if !d.consume('{') {
		if d.ws(); d.i >= len(d.b) {
			return nil, invalid("request body is empty; send a JSON object")
		}
		return nil, d.syntax(`a JSON object {"scalars": [...]}`)
	}
	if !d.consume('}') {
		for {
			d.ws()
			key, err := d.key()
			if err != nil {
				return nil, err
			}
			if !d.consume(':') {
				return nil, d.syntax("':'")
			}
			if string(key) != "scalars" {
				return nil, invalid("unknown field %q", string(key))
			}
			if seen {
				return nil, invalid("body: repeated key \"scalars\"")
			}
			d.ws()
			if out, err = d.array(); err != nil {
				return nil, err
			}
			seen = true
			if d.consume(',') {
				continue
			}
			if d.consume('}') {
				break
			}
			return nil, d.syntax("',' or '}'")
		}
	}
	if d.ws(); d.i != len(d.b) {
		return nil, invalid("malformed JSON: unexpected data after the top-level value")
	}
	if !seen {
		return nil, invalid("scalars is required")
	}
	return out, nil
}

func (d *scalarDecoder) array() ([]expt.Scalar, error) {
	if d.i >= len(d.b) || d.b[d.i] != '[' {
		if d.i < len(d.b) && (isValueStart(d.b[d.i])) {
			return nil, invalid("scalars: must be an array")
		}
		return nil, d.syntax("a value")
	}
	d.i++
	// Each point takes at least ~40 bytes; a good guess saves regrowing.
	out := make([]expt.Scalar, 0, min((len(d.b)-d.i)/48+1, expt.MaxScalarsPerBatch))
	if d.consume(']') {
		return out, nil
	}
	for {
		if len(out) == expt.MaxScalarsPerBatch {
			return nil, expt.Errorf(expt.ETOOLARGE, "scalars: more than %d points in one batch", expt.MaxScalarsPerBatch)
		}
		var sc expt.Scalar
		if err := d.point(len(out), &sc); err != nil {
			return nil, err
		}
		out = append(out, sc)
		if d.consume(',') {
			continue
		}
		if d.consume(']') {
			return out, nil
		}
		return nil, d.syntax("',' or ']'")
	}
}

func isValueStart(c byte) bool {
	switch c {
	case '{', '"', 't', 'f', 'n', '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return true
	}
	return false
}

// point decodes one element of the array into sc.
func (d *scalarDecoder) point(idx int, sc *expt.Scalar) error {
	d.ws()
	if d.i >= len(d.b) || d.b[d.i] != '{' {
		if d.i < len(d.b) && (isValueStart(d.b[d.i]) || d.b[d.i] == '[') {
			if _, err := d.skipValue(); err != nil {
				return err
			}
			return invalid("scalars[%d]: must be an object", idx)
		}
		return d.syntax("a value")
	}
	d.i++
	var hasStep, hasMode, hasName, hasType, hasValue bool
	var seenKeys uint8
	var typ string
	if !d.consume('}') {
		for {
			d.ws()
			key, err := d.key()
			if err != nil {
				return err
			}
			if !d.consume(':') {
				return d.syntax("':'")
			}
			d.ws()
			start := d.i
			kind, err := d.skipValue()
			if err != nil {
				return err
			}
			raw := d.b[start:d.i]
			// A repeated key is refused rather than silently last-wins.
			if bit := keyBit(key); bit != 0 {
				if seenKeys&bit != 0 {
					return invalid("scalars[%d]: repeated key %q", idx, string(key))
				}
				seenKeys |= bit
			}
			switch string(key) {
			case "step":
				v, ferr := stepOf(kind, raw)
				if ferr != nil {
					return invalid("scalars[%d].step: %s", idx, ferr.Msg)
				}
				sc.Step, hasStep = v, true
			case "mode":
				s, err := d.text(kind, raw, idx, "mode")
				if err != nil {
					return err
				}
				sc.Mode, hasMode = s, true
			case "name":
				s, err := d.text(kind, raw, idx, "name")
				if err != nil {
					return err
				}
				sc.Name, hasName = s, true
			case "type":
				s, err := d.text(kind, raw, idx, "type")
				if err != nil {
					return err
				}
				typ, hasType = s, true
			case "value":
				v, ferr := valueOf(kind, raw)
				if ferr != nil {
					return invalid("scalars[%d].value: %s", idx, ferr.Msg)
				}
				sc.Value, hasValue = v, true
			case "ts":
				switch kind {
				case 'n':
					sc.TS = 0
				case '0':
					f, err := api.ParseFloat(raw)
					if err != nil {
						return invalid("scalars[%d].ts: number is out of range", idx)
					}
					sc.TS = f
				default:
					return invalid("scalars[%d].ts: must be a number of seconds since the epoch", idx)
				}
			default:
				return invalid("scalars[%d]: unknown field %q", idx, string(key))
			}
			if d.consume(',') {
				continue
			}
			if d.consume('}') {
				break
			}
			return d.syntax("',' or '}'")
		}
	}
	switch {
	case !hasStep:
		return invalid("scalars[%d].step is required", idx)
	case !hasMode:
		return invalid("scalars[%d].mode is required", idx)
	case !hasName && !hasType:
		return invalid("scalars[%d].name is required", idx)
	case !hasValue:
		return invalid("scalars[%d].value is required", idx)
	}
	if !hasName {
		// The oldest client names the metric "type".
		sc.Name = typ
	}
	return nil
}

func keyBit(key []byte) uint8 {
	switch string(key) {
	case "step":
		return 1
	case "mode":
		return 2
	case "name":
		return 4
	case "type":
		return 8
	case "value":
		return 16
	case "ts":
		return 32
	}
	return 0
}

// stepOf and valueOf check the value's kind before parsing so that the
// common case (a plain number) does no extra work.
func stepOf(kind byte, raw []byte) (int64, *api.FieldError) {
	switch kind {
	case '0':
		return api.ParseStep(raw)
	case 't':
		return 0, &api.FieldError{Msg: "booleans are not numbers"}
	}
	return 0, &api.FieldError{Msg: "must be an integer"}
}

func valueOf(kind byte, raw []byte) (float64, *api.FieldError) {
	switch kind {
	case '0', '"':
		return api.ParseNum(raw)
	case 't':
		return 0, &api.FieldError{Msg: "booleans are not numbers"}
	}
	return 0, &api.FieldError{Msg: `must be a number or one of "NaN", "Infinity", "-Infinity"`}
}

// text returns a string field, interned across the batch (expt.CheckScalars
// checks what it holds).
func (d *scalarDecoder) text(kind byte, raw []byte, idx int, field string) (string, error) {
	if kind != '"' {
		return "", invalid("scalars[%d].%s: must be a string", idx, field)
	}
	inner := raw[1 : len(raw)-1]
	s, ok := d.intern[string(inner)]
	if !ok && indexEscape(inner) < 0 {
		s = string(inner)
		d.intern[s] = s
	} else if !ok {
		var err error
		if s, err = unescape(raw); err != nil {
			return "", invalid("scalars[%d].%s: %v", idx, field, err)
		}
	}
	return s, nil
}

// unescape decodes a string token with escapes; kept apart so that its
// heap-allocated result does not cost the common path an allocation.
func unescape(raw []byte) (string, error) {
	var s string
	err := json.Unmarshal(raw, &s)
	return s, err
}

func indexEscape(b []byte) int {
	for i, c := range b {
		if c == '\\' {
			return i
		}
	}
	return -1
}

// key reads a string token at d.i (an object key) and returns its value.
// Keys are only compared, so the common unescaped key is returned as a
// slice of the body and costs no allocation.
func (d *scalarDecoder) key() ([]byte, error) {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return nil, d.syntax("a string")
	}
	start := d.i
	if err := d.skipString(); err != nil {
		return nil, err
	}
	raw := d.b[start:d.i]
	inner := raw[1 : len(raw)-1]
	if indexEscape(inner) < 0 {
		return inner, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, invalid("malformed JSON at byte %d: %v", start, err)
	}
	return []byte(s), nil
}

// skipString moves past the string starting at d.i, checking escapes and
// control characters as JSON requires.
func (d *scalarDecoder) skipString() error {
	d.i++ // opening quote
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			return nil
		case c == '\\':
			d.i++
			if d.i >= len(d.b) {
				return d.syntax("an escape sequence")
			}
			switch d.b[d.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.i++
			case 'u':
				d.i++
				for k := 0; k < 4; k++ {
					if d.i >= len(d.b) || !isHex(d.b[d.i]) {
						return d.syntax("four hex digits after \\u")
					}
					d.i++
				}
			default:
				return d.syntax("a valid escape sequence")
			}
		case c < 0x20:
			return d.syntax("no control characters in a string")
		default:
			d.i++
		}
	}
	return d.syntax(`'"'`)
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// skipValue moves past one JSON value and returns its kind: '"' string,
// '0' number, 't' boolean, 'n' null, '{' object, '[' array.
func (d *scalarDecoder) skipValue() (byte, error) {
	if d.i >= len(d.b) {
		return 0, d.syntax("a value")
	}
	switch c := d.b[d.i]; c {
	case '"':
		return '"', d.skipString()
	case 't':
		return 't', d.literal("true")
	case 'f':
		return 't', d.literal("false")
	case 'n':
		return 'n', d.literal("null")
	case '{', '[':
		return c, d.skipComposite()
	default:
		end, ok := api.ScanNumber(d.b, d.i)
		if !ok {
			d.i = end
			return 0, d.syntax("a value")
		}
		d.i = end
		return '0', nil
	}
}

func (d *scalarDecoder) literal(lit string) error {
	if len(d.b)-d.i < len(lit) || string(d.b[d.i:d.i+len(lit)]) != lit {
		return d.syntax(fmt.Sprintf("%q", lit))
	}
	d.i += len(lit)
	return nil
}

// skipComposite moves past an object or array, checking its syntax; only
// met in bad input, so it may be simple rather than fast.
func (d *scalarDecoder) skipComposite() error { return d.skipNested(0) }

func (d *scalarDecoder) skipNested(depth int) error {
	if depth > 1000 {
		return invalid("malformed JSON: nested too deeply")
	}
	open := d.b[d.i]
	d.i++
	closer := byte('}')
	if open == '[' {
		closer = ']'
	}
	if d.consume(closer) {
		return nil
	}
	for {
		d.ws()
		if open == '{' {
			if err := d.skipKey(); err != nil {
				return err
			}
			d.ws()
		}
		if d.i < len(d.b) && (d.b[d.i] == '{' || d.b[d.i] == '[') {
			if err := d.skipNested(depth + 1); err != nil {
				return err
			}
		} else if _, err := d.skipValue(); err != nil {
			return err
		}
		if d.consume(',') {
			continue
		}
		if d.consume(closer) {
			return nil
		}
		return d.syntax(fmt.Sprintf("',' or '%c'", closer))
	}
}

func (d *scalarDecoder) skipKey() error {
	if d.i >= len(d.b) || d.b[d.i] != '"' {
		return d.syntax("a string")
	}
	if err := d.skipString(); err != nil {
		return err
	}
	if !d.consume(':') {
		return d.syntax("':'")
	}
	return nil
}
