package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"unsafe"

	"github.com/expt-logger/expt"
)

// Num is a float64 that travels as a JSON number, or as "NaN", "Infinity"
// and "-Infinity" when it is not finite (JSON has no such numbers).
type Num float64

func (n Num) MarshalJSON() ([]byte, error) { return AppendNum(nil, float64(n)), nil }

func (n *Num) UnmarshalJSON(b []byte) error {
	v, err := ParseNum(b)
	if err != nil {
		return err
	}
	*n = Num(v)
	return nil
}

// AppendNum appends f as encoding/json would, or as a string when not finite.
func AppendNum(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, `"NaN"`...)
	case math.IsInf(f, 1):
		return append(b, `"Infinity"`...)
	case math.IsInf(f, -1):
		return append(b, `"-Infinity"`...)
	}
	// Same choice of format as encoding/json: plain decimals for ordinary
	// magnitudes, exponent form for very small and very large ones.
	abs := math.Abs(f)
	fmtc := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		fmtc = 'e'
	}
	b = strconv.AppendFloat(b, f, fmtc, -1, 64)
	if fmtc == 'e' {
		// clean up e-09 to e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// FieldError is a decoding error without its place; callers prefix it
// with the field's path. The parsers return it as a pointer, nil for none:
// they run for every value of every batch.
type FieldError struct{ Msg string }

func (e *FieldError) Error() string { return e.Msg }

// ParseNum reads one metric or reward value from its raw JSON: a number,
// or one of the strings "NaN", "Infinity", "-Infinity".
func ParseNum(raw []byte) (float64, *FieldError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0, &FieldError{Msg: "must be a number"}
	}
	switch raw[0] {
	case 't', 'f':
		return 0, &FieldError{Msg: "booleans are not numbers"}
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, &FieldError{Msg: "must be a number"}
		}
		if f, ok := NonFinite(s); ok {
			return f, nil
		}
		return 0, &FieldError{Msg: `must be a number or one of "NaN", "Infinity", "-Infinity"`}
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		if !validNumber(raw) {
			return 0, &FieldError{Msg: "must be a number"}
		}
		f, err := ParseFloat(raw)
		if err != nil {
			return 0, &FieldError{Msg: "number is out of range"}
		}
		return f, nil
	}
	return 0, &FieldError{Msg: "must be a number"}
}

// NonFinite is the value of "NaN", "Infinity" or "-Infinity"; ok is false for any other string.
func NonFinite(s string) (float64, bool) {
	switch s {
	case "NaN":
		return math.NaN(), true
	case "Infinity":
		return math.Inf(1), true
	case "-Infinity":
		return math.Inf(-1), true
	}
	return 0, false
}

// validNumber reports whether b is exactly one JSON number.
func validNumber(b []byte) bool {
	n, ok := ScanNumber(b, 0)
	return ok && n == len(b)
}

// ScanNumber returns the end of the JSON number starting at b[i].
func ScanNumber(b []byte, i int) (int, bool) {
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return i, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return i, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == start {
			return i, false
		}
	}
	return i, true
}

// ParseStep reads a step: an integer from 0 to 2^53, written without a
// fraction or exponent.
func ParseStep(raw []byte) (int64, *FieldError) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0, &FieldError{Msg: "must be an integer"}
	}
	switch raw[0] {
	case 't', 'f':
		return 0, &FieldError{Msg: "booleans are not numbers"}
	case '-':
		if validNumber(raw) {
			return 0, &FieldError{Msg: "must not be negative"}
		}
	}
	if !validNumber(raw) {
		return 0, &FieldError{Msg: "must be an integer"}
	}
	if bytes.ContainsAny(raw, ".eE") {
		return 0, &FieldError{Msg: "must be an integer"}
	}
	if len(raw) > 16 {
		return 0, &FieldError{Msg: "must be at most 2^53"}
	}
	// At most 16 digits cannot overflow an int64.
	var v int64
	for _, c := range raw {
		v = v*10 + int64(c-'0')
	}
	if v > expt.MaxStep {
		return 0, &FieldError{Msg: "must be at most 2^53"}
	}
	return v, nil
}

// ParseFloat parses a validated JSON number without copying it to a string:
// this runs for every point of every batch. The string does not outlive the
// call (the error, which would keep it, is replaced by the caller).
func ParseFloat(raw []byte) (float64, error) {
	f, err := strconv.ParseFloat(unsafe.String(unsafe.SliceData(raw), len(raw)), 64)
	if err != nil {
		return 0, errors.New("number is out of range")
	}
	return f, nil
}
