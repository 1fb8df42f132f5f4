package http

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// hasRepeatedKey is the reference: a token walk of encoding/json.
func hasRepeatedKey(data []byte) bool {
	dec := json.NewDecoder(bytes.NewReader(data))
	var stack []map[string]bool
	expectKey := []bool{}
	for {
		tok, err := dec.Token()
		if err != nil {
			return false
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				stack = append(stack, map[string]bool{})
				expectKey = append(expectKey, true)
				continue
			case '[':
				stack = append(stack, nil)
				expectKey = append(expectKey, false)
				continue
			default:
				stack, expectKey = stack[:len(stack)-1], expectKey[:len(expectKey)-1]
			}
		case string:
			if n := len(stack); n > 0 && stack[n-1] != nil && expectKey[n-1] {
				if stack[n-1][v] {
					return true
				}
				stack[n-1][v] = true
				expectKey[n-1] = false
				continue
			}
		}
		if n := len(stack); n > 0 && stack[n-1] != nil {
			expectKey[n-1] = true
		}
	}
}

func TestCheckKeys(t *testing.T) {
	type inner struct {
		Step int             `json:"step"`
		Raw  json.RawMessage `json:"raw"`
	}
	type outer struct {
		Items []inner `json:"items"`
		Name  *string `json:"name"`
	}
	typ := reflect.TypeFor[outer]()
	for _, c := range []struct{ body, err string }{
		{`{"items":[{"step":1,"raw":{"a":1,"A":2}}],"name":"x"}`, ""},
		{`{"items":[{"step":1,"STEP":2}]}`, `items[0]: unknown field "STEP"`},
		{`{"items":[{"step":1}],"Name":"x"}`, `unknown field "Name"`},
		{`{"items":[{"step":1,"step":2}]}`, `items[0]: repeated key "step"`},
		{`{"items":[{"raw":{"k":[{"x":1,"x":2}]}}]}`, `items[0].raw.k[0]: repeated key "x"`},
		{`{"items":[{"raw":{"\u0063":1,"c":2}}]}`, `repeated key "c"`},
		{`{"name":"a","name":"b"}`, `body: repeated key "name"`},
	} {
		err := checkKeys([]byte(c.body), typ, "")
		if c.err == "" && err != nil || c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)) {
			t.Errorf("%s: %v, want %q", c.body, err, c.err)
		}
	}
	var f [3]json.RawMessage
	exactFields([]byte(`{"CONTENT":"no","role":"user","content":"yes","x":{"content":1}}`), messageKeys, f[:])
	if string(f[0]) != `"user"` || string(f[1]) != `"yes"` || f[2] != nil {
		t.Errorf("exactFields: %q", f)
	}
}

// FuzzCheckKeys holds the scanner to encoding/json on any valid JSON: it
// never panics and finds a repeated key exactly when one is there.
func FuzzCheckKeys(f *testing.F) {
	for _, s := range []string{`{"a":1,"a":2}`, `[{"a":{"b":[1,{"c":1,"c":2}]}}]`, `{"a":"\"}\\","b":[]}`, `"x"`, `{"\u00e9":1,"é":2}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) || !utf8.Valid(data) { // readBody refuses invalid UTF-8 first
			return
		}
		err := checkKeys(data, nil, "")
		if got, want := err != nil, hasRepeatedKey(data); got != want {
			t.Fatalf("%q: repeated=%v (%v), encoding/json says %v", data, got, err, want)
		}
		var out [2]json.RawMessage
		exactFields(data, []string{"a", "b"}, out[:])
	})
}
