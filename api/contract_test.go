package api

import (
	"bufio"
	"encoding/json"
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// node is one "key: value" line of openapi.yaml and the lines under it.
type node struct {
	key, value string
	line       int
	kids       []*node
}

func (n *node) kid(key string) *node {
	for _, k := range n.kids {
		if k.key == key {
			return k
		}
	}
	return nil
}

// at follows a path of keys from n; nil when one is missing.
func (n *node) at(keys ...string) *node {
	for _, k := range keys {
		if n = n.kid(k); n == nil {
			return nil
		}
	}
	return n
}

// follow is doc.at(keys...), going through {$ref: "#/components/..."}
// values on the way.
func (doc *node) follow(keys ...string) *node {
	n := doc
	for _, k := range keys {
		if len(n.kids) == 0 && strings.HasPrefix(n.value, `{$ref: "#/components/`) {
			ref := strings.TrimSuffix(strings.TrimPrefix(n.value, `{$ref: "#/`), `"}`)
			if n = doc.at(strings.Split(ref, "/")...); n == nil {
				return nil
			}
		}
		if n = n.kid(k); n == nil {
			return nil
		}
	}
	return n
}

// readYAML reads the block layout openapi.yaml uses (indented "key:" lines,
// flow values on one line, "- " list items, "|" blocks) into a tree: enough
// to hold the document and the Go types to each other without a YAML
// dependency.
func readYAML(t *testing.T, name string) *node {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	root := &node{}
	type open struct {
		indent int
		n      *node
	}
	stack := []open{{-1, root}}
	block := -1 // indent of a "|" key whose text lines follow
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		indent := len(line) - len(strings.TrimLeft(line, " "))
		if block >= 0 && (trimmed == "" || indent > block) {
			continue
		}
		block = -1
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		for stack[len(stack)-1].indent >= indent {
			stack = stack[:len(stack)-1]
		}
		key, value := trimmed, ""
		if strings.HasPrefix(trimmed, "- ") {
			key, value = "-", strings.TrimPrefix(trimmed, "- ")
		} else if i := strings.Index(trimmed, ":"); i >= 0 {
			key, value = strings.Trim(trimmed[:i], `"`), strings.TrimSpace(trimmed[i+1:])
		}
		if value == "|" {
			block = indent
		}
		nd := &node{key: key, value: value, line: n}
		parent := stack[len(stack)-1].n
		parent.kids = append(parent.kids, nd)
		stack = append(stack, open{indent, nd})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return root
}

// schemaParts resolves a schema to the object schemas it is made of:
// itself, its $ref target, or the parts of its allOf.
func schemaParts(t *testing.T, doc, s *node) []*node {
	t.Helper()
	if strings.HasPrefix(s.value, "{$ref:") {
		name := strings.TrimSuffix(s.value[strings.LastIndex(s.value, "/")+1:], `"}`)
		ref := doc.at("components", "schemas", name)
		if ref == nil {
			t.Fatalf("line %d: no schema %s", s.line, name)
		}
		return schemaParts(t, doc, ref)
	}
	if all := s.kid("allOf"); all != nil {
		var out []*node
		for _, part := range all.kids {
			out = append(out, schemaParts(t, doc, part)...)
		}
		return out
	}
	return []*node{s}
}

// schemaFields returns a schema's properties by name and the names it
// requires.
func schemaFields(t *testing.T, doc, s *node) (props map[string]*node, required []string) {
	t.Helper()
	props = map[string]*node{}
	for _, part := range schemaParts(t, doc, s) {
		if p := part.kid("properties"); p != nil {
			for _, k := range p.kids {
				props[k.key] = k
			}
		}
		if r := part.kid("required"); r != nil {
			for _, f := range strings.Split(strings.Trim(r.value, "[]"), ",") {
				required = append(required, strings.TrimSpace(f))
			}
		}
	}
	return props, required
}

// aliases are properties the document names that a Go type leaves out: keys
// the server also accepts from older clients.
var aliases = map[reflect.Type][]string{
	reflect.TypeFor[ScalarIn]():   {"type"},
	reflect.TypeFor[RunErrorIn](): {"error_type"}, // the published client's spelling of errorType
}

// checkSchema holds the Go type typ to schema s, and the structs inside it
// to the schemas of their properties (array items included).
func checkSchema(t *testing.T, doc, s *node, typ reflect.Type, name string, response bool) {
	t.Helper()
	props, required := schemaFields(t, doc, s)
	fields, omit, types := jsonFields(typ)
	want := []string{}
	for p := range props {
		if !slices.Contains(aliases[typ], p) {
			want = append(want, p)
		}
	}
	slices.Sort(want)
	got := slices.Sorted(slices.Values(fields))
	if !slices.Equal(got, want) {
		t.Errorf("%s (%s, line %d): Go fields %v, document properties %v", name, typ.Name(), s.line, got, want)
	}
	for _, r := range required {
		if omit[r] && response {
			t.Errorf("%s (%s): %q is required but omitempty", name, typ.Name(), r)
		}
	}
	for field, ft := range types {
		p := props[field]
		if p == nil {
			continue
		}
		if ft.Implements(reflect.TypeFor[json.Marshaler]()) {
			continue // its own JSON form, written by hand next to it
		}
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
			if ft.Kind() != reflect.Struct {
				continue
			}
			if parts := schemaParts(t, doc, p); len(parts) == 1 && parts[0].kid("oneOf") != nil {
				continue // one of several shapes, the list among them
			}
			if items := p.kid("items"); items != nil {
				p = items
			} else if i := strings.Index(p.value, "items: {$ref:"); i >= 0 {
				// {type: array, items: {$ref: ...}} on one line
				p = &node{value: strings.TrimSuffix(p.value[i+len("items: "):], "}"), line: p.line}
			} else {
				t.Errorf("%s (%s): %q is a list of %s but has no items schema", name, typ.Name(), field, ft.Name())
				continue
			}
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeFor[time.Time]() {
			checkSchema(t, doc, p, ft, name+"."+field, response)
		}
	}
}

// jsonFields returns the JSON names of a struct's fields (embedded structs
// flattened, as encoding/json does), which of them are omitempty and their
// types (pointers dereferenced).
func jsonFields(typ reflect.Type) (names []string, omit map[string]bool, types map[string]reflect.Type) {
	omit, types = map[string]bool{}, map[string]reflect.Type{}
	for f := range typ.Fields() {
		tag := f.Tag.Get("json")
		if f.Anonymous && tag == "" {
			n, o, ty := jsonFields(f.Type)
			names = append(names, n...)
			for k, v := range o {
				omit[k], types[k] = v, ty[k]
			}
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		names = append(names, name)
		omit[name] = strings.Contains(opts, "omitempty")
		ft := f.Type
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		types[name] = ft
	}
	return names, omit, types
}

// TestSchemasMatchTypes holds each request and answer of openapi.yaml to
// the Go type that carries it: the same field names, and no required field
// that the type could leave out.
func TestSchemasMatchTypes(t *testing.T) {
	doc := readYAML(t, "openapi.yaml")
	body := []string{"requestBody", "content", "application/json", "schema"}
	ok200 := []string{"responses", "200", "content", "application/json", "schema"}
	cases := []struct {
		path, method string
		where        []string
		v            any
	}{
		{"/api/health", "get", ok200, Health{}},
		{"/api/auth/sign-up/email", "post", body, SignUpRequest{}},
		{"/api/auth/sign-up/email", "post", ok200, UserResponse{}},
		{"/api/auth/sign-in/email", "post", body, SignInRequest{}},
		{"/api/auth/sign-out", "post", ok200, Success{}},
		{"/api/me", "get", ok200, UserResponse{}},
		{"/api/api-keys", "post", body, CreateKeyRequest{}},
		{"/api/api-keys", "post", []string{"responses", "201", "content", "application/json", "schema"}, CreateKeyResponse{}},
		{"/api/api-keys", "get", ok200, APIKeys{}},
		{"/api/api-keys", "delete", body, IDs{}},
		{"/api/api-keys", "delete", ok200, Deleted{}},
		{"/api/api-keys/{id}", "delete", ok200, DeletedOne{}},
		{"/api/experiments", "post", body, CreateExperimentRequest{}},
		{"/api/experiments", "post", ok200, CreateExperimentResponse{}},
		{"/api/experiments", "get", ok200, Experiments{}},
		{"/api/experiments", "put", body, ExperimentUpdate{}},
		{"/api/experiments", "put", ok200, Experiment{}},
		{"/api/experiments", "delete", body, IDs{}},
		{"/api/experiments", "delete", ok200, Deleted{}},
		{"/api/experiments/{id}", "get", ok200, Experiment{}},
		{"/api/experiments/{id}", "put", body, ExperimentUpdate{}},
		{"/api/experiments/{id}", "delete", ok200, DeletedOne{}},
		{"/api/experiments/{id}/details", "get", ok200, ExperimentDetails{}},
		{"/api/experiments/{id}/scalars", "post", body, Scalars{}},
		{"/api/experiments/{id}/scalars", "post", ok200, Written{}},
		{"/api/experiments/{id}/series", "get", ok200, Series{}},
		{"/api/experiments/{id}/metrics", "get", ok200, Metrics{}},
		{"/api/experiments/{id}/rollouts", "post", body, Rollouts{}},
		{"/api/experiments/{id}/rollouts", "post", ok200, RolloutsWritten{}},
		{"/api/experiments/{id}/rollouts", "get", ok200, RolloutPage{}},
		{"/api/experiments/{id}/rollouts/{rolloutId}", "get", ok200, Rollout{}},
		{"/api/experiments/{id}/rollouts/groups", "get", ok200, GroupPage{}},
		{"/api/experiments/{id}/rollouts/summary", "get", ok200, GroupSummary{}},
		{"/api/experiments/{id}/rollouts/steps", "get", ok200, StepCounts{}},
		{"/api/experiments/{id}/rewards", "get", ok200, StepRewardList{}},
		{"/api/experiments/{id}/errors", "get", ok200, RunErrors{}},
		{"/api/experiments/{id}/errors", "post", ok200, Written{}},
		{"/api/experiments/{id}/errors", "post", body, RunErrorsIn{}},
		{"/api/experiments/{id}/env-logs", "post", body, EnvLogsIn{}},
		{"/api/experiments/{id}/summary", "get", ok200, Summary{}},
		{"/api/experiments/{id}/env-logs", "get", ok200, EnvLogs{}},
		{"/api/experiments/{id}/env-logs", "post", ok200, Written{}},
	}
	for _, v := range []any{ScalarsEvent{}, RolloutsEvent{}, ExperimentEvent{}} {
		typ := reflect.TypeOf(v)
		s := doc.at("components", "schemas", typ.Name())
		if s == nil {
			t.Errorf("components/schemas/%s: not in openapi.yaml", typ.Name())
			continue
		}
		checkSchema(t, doc, s, typ, typ.Name(), true)
	}
	for _, c := range cases {
		typ := reflect.TypeOf(c.v)
		name := c.method + " " + c.path + " " + c.where[0] + " " + typ.Name()
		s := doc.follow(append([]string{"paths", c.path, c.method}, c.where...)...)
		if s == nil {
			t.Errorf("%s: not in openapi.yaml", name)
			continue
		}
		checkSchema(t, doc, s, typ, name, c.where[0] == "responses")
	}
}
