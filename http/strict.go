package http

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// One JSON policy for every request body: in every object a key appears
// once, and in an object the server reads into a struct, a key must be
// the field's name exactly. encoding/json takes the last of repeated keys
// and matches names case-insensitively, so {"content", "CONTENT"} was
// shown under one key and indexed under the other, and "STEP" stood for
// "step". Free-form objects (configs, messages, reward maps) keep every key
// a client sends, so there only repeats are refused.

// checkKeys holds one valid JSON value to that policy for the Go type t it
// is decoded into; path names it in errors.
func checkKeys(data []byte, t reflect.Type, path string) error {
	sc := keyScanner{b: data}
	sc.space()
	return sc.value(t, path)
}

type keyScanner struct {
	b []byte
	i int
}

func (s *keyScanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value checks the value at s.i, which the type t describes (nil: free-form).
func (s *keyScanner) value(t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s.i >= len(s.b) {
		return nil
	}
	switch s.b[s.i] {
	case '{':
		return s.object(t, path)
	case '[':
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && t != rawMessageType {
			elem = t.Elem()
		}
		s.i++
		for n := 0; ; n++ {
			s.space()
			if s.b[s.i] == ']' {
				s.i++
				return nil
			}
			if err := s.value(elem, fmt.Sprintf("%s[%d]", path, n)); err != nil {
				return err
			}
			s.space()
			if s.b[s.i] == ',' {
				s.i++
			}
		}
	case '"':
		s.str()
	default: // a number, true, false or null
		for s.i < len(s.b) && !strings.ContainsRune(" \t\n\r,]}", rune(s.b[s.i])) {
			s.i++
		}
	}
	return nil
}

func (s *keyScanner) object(t reflect.Type, path string) error {
	var fields map[string]reflect.Type
	var values reflect.Type // a map's value type
	if t != nil {
		switch {
		case t.Kind() == reflect.Struct:
			fields = structFields(t)
		case t.Kind() == reflect.Map:
			values = t.Elem()
		}
	}
	var seen []string // few keys per object: a slice beats a map
	var seenSet map[string]struct{}
	s.i++
	for {
		s.space()
		if s.b[s.i] == '}' {
			s.i++
			return nil
		}
		key := s.str()
		if len(seen) < 16 {
			for _, k := range seen {
				if k == key {
					return invalid("%s: repeated key %q", fieldPath(path, ""), key)
				}
			}
			seen = append(seen, key)
		} else {
			if seenSet == nil {
				seenSet = make(map[string]struct{}, 32)
				for _, k := range seen {
					seenSet[k] = struct{}{}
				}
			}
			if _, dup := seenSet[key]; dup {
				return invalid("%s: repeated key %q", fieldPath(path, ""), key)
			}
			seenSet[key] = struct{}{}
		}
		var vt reflect.Type
		if fields != nil {
			ft, ok := fields[key]
			if !ok {
				if path != "" {
					return invalid("%s: unknown field %q", path, key)
				}
				return invalid("unknown field %q", key)
			}
			vt = ft
		} else if values != nil {
			vt = values
		}
		s.space()
		s.i++ // ':'
		s.space()
		if err := s.value(vt, fieldPath(path, key)); err != nil {
			return err
		}
		s.space()
		if s.b[s.i] == ',' {
			s.i++
		}
	}
}

// str reads the string at s.i and returns its value (unescaped when it
// has escapes: "\u0043ONTENT" is the key CONTENT).
func (s *keyScanner) str() string {
	start := s.i
	s.i++
	escaped := false
	for s.b[s.i] != '"' {
		if s.b[s.i] == '\\' {
			escaped = true
			s.i++
		}
		s.i++
	}
	s.i++
	raw := s.b[start:s.i]
	if !escaped {
		return string(raw[1 : len(raw)-1])
	}
	var v string
	_ = json.Unmarshal(raw, &v) // valid JSON: cannot fail
	return v
}

func fieldPath(path, key string) string {
	switch {
	case key == "":
		if path == "" {
			return "body"
		}
		return path
	case path == "":
		return key
	}
	return path + "." + key
}

var (
	rawMessageType = reflect.TypeFor[json.RawMessage]()
	fieldCache     sync.Map // reflect.Type -> map[string]reflect.Type
)

// structFields maps the JSON names of t's fields (embedded structs
// flattened, as encoding/json does) to their types; free-form fields
// (json.RawMessage, any) map to nil.
func structFields(t reflect.Type) map[string]reflect.Type {
	if m, ok := fieldCache.Load(t); ok {
		return m.(map[string]reflect.Type)
	}
	m := map[string]reflect.Type{}
	for f := range t.Fields() {
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && tag == "" {
			for k, v := range structFields(f.Type) {
				m[k] = v
			}
			continue
		}
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		ft := f.Type
		if ft == rawMessageType || ft.Kind() == reflect.Interface {
			ft = nil
		}
		m[name] = ft
	}
	fieldCache.Store(t, m)
	return m
}

// exactFields sets out[i] to the raw value of the key names[i] of one JSON
// object (valid, no key repeated), matching names exactly: in a message,
// "CONTENT" is an extra key like any other, never the content.
func exactFields(raw []byte, names []string, out []json.RawMessage) {
	s := keyScanner{b: raw}
	s.space()
	if s.i >= len(s.b) || s.b[s.i] != '{' {
		return
	}
	s.i++
	for {
		s.space()
		if s.i >= len(s.b) || s.b[s.i] == '}' {
			return
		}
		key := s.str()
		s.space()
		s.i++ // ':'
		s.space()
		start := s.i
		_ = s.value(nil, "")
		for i, n := range names {
			if n == key {
				out[i] = s.b[start:s.i]
			}
		}
		s.space()
		if s.i < len(s.b) && s.b[s.i] == ',' {
			s.i++
		}
	}
}
