package http

import (
	"bufio"
	"os"
	"slices"
	"strings"
	"testing"
)

// openAPIOp is one operation found in api/openapi.yaml.
type openAPIOp struct {
	Route
	public bool // has "security: []"
}

// readOpenAPIPaths reads the operations under "paths:" of the document. It
// understands only the block layout the file uses (two-space indents: paths
// at 2, methods at 4, operation keys at 6), which is enough to hold the
// document and the route table to each other without a YAML dependency.
func readOpenAPIPaths(t *testing.T, name string) []openAPIOp {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ops []openAPIOp
	inPaths, path := false, ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.Contains(line, "\t") {
			t.Fatalf("%s:%d: tab in YAML", name, n)
		}
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || strings.HasPrefix(trimmed, "#") {
			continue
		}
		indent := len(line) - len(strings.TrimLeft(line, " "))
		switch {
		case indent == 0:
			inPaths = trimmed == "paths:"
		case !inPaths:
		case indent == 2:
			if !strings.HasPrefix(trimmed, "/") || !strings.HasSuffix(trimmed, ":") {
				t.Fatalf("%s:%d: expected a path, got %q", name, n, trimmed)
			}
			path = strings.TrimSuffix(trimmed, ":")
		case indent == 4:
			method := strings.TrimSuffix(trimmed, ":")
			switch method {
			case "get", "put", "post", "delete", "patch":
				ops = append(ops, openAPIOp{Route: Route{Method: strings.ToUpper(method), Pattern: path}})
			}
		case indent == 6 && len(ops) > 0 && trimmed == "security: []":
			ops[len(ops)-1].public = true
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ops
}

func TestOpenAPIMatchesRoutes(t *testing.T) {
	ops := readOpenAPIPaths(t, "../api/openapi.yaml")
	if len(ops) == 0 {
		t.Fatal("no operations found in api/openapi.yaml")
	}
	documented := map[Route]bool{}
	for _, op := range ops {
		if documented[op.Route] {
			t.Errorf("%s %s documented twice", op.Method, op.Pattern)
		}
		documented[op.Route] = true
	}
	registered := map[Route]int{}
	for _, rt := range (&Server{}).routes() {
		registered[Route{rt.Method, rt.Pattern}] = rt.auth
	}
	for _, rt := range Routes() {
		if !documented[rt] {
			t.Errorf("route %s %s is missing from api/openapi.yaml", rt.Method, rt.Pattern)
		}
	}
	for _, op := range ops {
		auth, ok := registered[op.Route]
		if !ok {
			t.Errorf("api/openapi.yaml documents %s %s, which is not a route", op.Method, op.Pattern)
			continue
		}
		if op.public != (auth == public) {
			t.Errorf("%s %s: document says public=%v, route table says auth=%d", op.Method, op.Pattern, op.public, auth)
		}
	}
	if got, want := len(Routes()), len(registered); got != want {
		t.Errorf("Routes() lists %d routes, the table %d", got, want)
	}
	if !slices.ContainsFunc(Routes(), func(r Route) bool { return r.Pattern == "/api/experiments/{id}/scalars" && r.Method == "POST" }) {
		t.Error("Routes() lacks the scalar write")
	}
}
