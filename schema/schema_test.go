package schema_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/schema"
	"github.com/nsinspect/nsinspect/schema/schematest"
)

func validator(t *testing.T) *schematest.Validator {
	t.Helper()
	v, err := schematest.New()
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// The renderers' golden files and the decoded fixtures are documents
// nsinspect prints; each validates against the schema its name starts
// with (ls-noid.json against ls, fds-kernel.json against fds-kernel).
var documentDirs = []string{"../render/testdata/golden", "../render/testdata/fixtures"}

// schemaOf is the longest schema name that file's name starts with,
// followed by "-" or ".json".
func schemaOf(names []string, file string) string {
	best := ""
	for _, n := range names {
		if (strings.HasPrefix(file, n+"-") || file == n+".json") && len(n) > len(best) {
			best = n
		}
	}
	return best
}

func TestGoldenDocumentsValidate(t *testing.T) {
	v := validator(t)
	n := 0
	for _, dir := range documentDirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			name := schemaOf(v.Names(), filepath.Base(f))
			if name == "" {
				t.Errorf("%s: no schema/NAME.json for it (name a golden file after its command's schema)", f)
				continue
			}
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Validate(name, b); err != nil {
				t.Errorf("%s: %v", f, err)
				continue
			}
			closed(t, v, name, f, b)
			n++
		}
	}
	if n < 11 {
		t.Errorf("%d golden documents validated; the renderers' tests write at least 11", n)
	}
}

// closed checks that every object of a document is closed: the document
// with one unknown key added to any one of its objects does not validate.
// The elements of an array are alike: the first of each is tried.
func closed(t *testing.T, v *schematest.Validator, name, file string, b []byte) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	const unknown = "nsinspect_unknown_key"
	seen := map[string]bool{}
	eachObject(doc, "", func(o map[string]any, at string) {
		shape := arrayIndex.ReplaceAllString(at, "/*")
		if seen[shape] {
			return
		}
		seen[shape] = true
		o[unknown] = map[string]any{}
		defer delete(o, unknown)
		m, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if v.Validate(name, m) == nil {
			t.Errorf("%s: a key added at %s validates against schema/%s.json: the object is not closed", file, at, name)
		}
	})
}

// arrayIndex is an array index in a path of eachObject.
var arrayIndex = regexp.MustCompile(`/[0-9]+`)

func eachObject(v any, at string, f func(map[string]any, string)) {
	switch v := v.(type) {
	case map[string]any:
		f(v, at+"/")
		for k, x := range v {
			eachObject(x, at+"/"+k, f)
		}
	case []any:
		for i, x := range v {
			eachObject(x, fmt.Sprintf("%s/%d", at, i), f)
		}
	}
}

// Every object a schema describes is closed: one with properties allows
// no other key, a map says what its values are.
func TestSchemasAreClosed(t *testing.T) {
	files, err := fs.Glob(schema.FS, "*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		b, err := schema.FS.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var s any
		if err := json.Unmarshal(b, &s); err != nil {
			t.Fatalf("schema/%s: %v", f, err)
		}
		eachObject(s, "", func(o map[string]any, at string) {
			if strings.Contains(at, "/properties/") && !isSchema(at) {
				return
			}
			props, hasProps := o["properties"].(map[string]any)
			ap, hasAP := o["additionalProperties"]
			switch {
			case hasProps && ap != false:
				t.Errorf("schema/%s#%s: properties without \"additionalProperties\": false", f, at)
			case isObjectType(o["type"]) && !hasAP:
				t.Errorf("schema/%s#%s: an object without additionalProperties", f, at)
			}
			req, _ := o["required"].([]any)
			for _, r := range req {
				if _, ok := props[r.(string)]; !ok {
					t.Errorf("schema/%s#%s: %q is required but not a property", f, at, r)
				}
			}
		})
	}
}

// isSchema says whether the object at a path is a schema rather than the
// map of a "properties" keyword (whose keys are names, not keywords).
func isSchema(at string) bool {
	parts := strings.Split(strings.Trim(at, "/"), "/")
	return len(parts) < 1 || parts[len(parts)-1] != "properties"
}

func isObjectType(t any) bool {
	switch t := t.(type) {
	case string:
		return t == "object"
	case []any:
		return slices.Contains(t, any("object"))
	}
	return false
}

// Every document begins with schema_version, the number Version writes.
func TestSchemaVersion(t *testing.T) {
	v := validator(t)
	for _, name := range v.Names() {
		if err := v.Validate(name, []byte(`{"schema_version": 2}`)); err == nil || !strings.Contains(err.Error(), "schema_version") {
			t.Errorf("schema/%s.json: a document of version 2: %v, want a schema_version mismatch", name, err)
		}
	}
	b, err := json.Marshal(struct {
		V schema.Version `json:"schema_version"`
	}{})
	if err != nil || string(b) != fmt.Sprintf(`{"schema_version":%d}`, schema.Current) {
		t.Errorf("Version encodes as %s, %v", b, err)
	}
	var d struct {
		V schema.Version `json:"schema_version"`
	}
	if err := json.Unmarshal([]byte(`{"schema_version":2}`), &d); err == nil {
		t.Error("Version decodes schema_version 2")
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Errorf("Version does not decode what it writes: %v", err)
	}
}

func TestForArgs(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"ls", "--json"}, "ls"},
		{[]string{"ls", "-t", "net", "-J"}, "ls"},
		{[]string{"ls"}, ""},
		{[]string{"--json", "fds", "self"}, "fds"},
		{[]string{"fds", "--kernel", "--json", "1"}, "fds-kernel"},
		{[]string{"show", "--kernel", "--json", "1"}, "show"},
		{[]string{"compare", "--json", "1", "2", "--kernel"}, "compare"},
		{[]string{"explain", "net", "--json"}, "explain"},
		{[]string{"graph", "--json"}, ""},
		{[]string{"ls", "--json", "--help"}, ""},
	} {
		if got := schematest.ForArgs(c.args); got != c.want {
			t.Errorf("ForArgs(%q) = %q, want %q", c.args, got, c.want)
		}
	}
}

// Every answer of openapi.yaml resolves (schematest.New checks it), the
// error table names every status an error response is documented with,
// and an error body with a code of another status is refused.
func TestOpenAPIErrors(t *testing.T) {
	v := validator(t)
	body := func(status int, code string) []byte {
		return []byte(fmt.Sprintf(`{"schema_version": 1, "error": {"status": %d, "code": %q, "message": "m"}}`, status, code))
	}
	if err := v.ValidateAnswer("/api/compare", 404, body(404, "no_such_task")); err != nil {
		t.Error(err)
	}
	if err := v.ValidateAnswer("/api/compare", 404, body(404, "busy")); err == nil {
		t.Error("a 404 with code busy (a 429's) is accepted")
	}
	if err := v.ValidateAnswer("/api/compare", 404, body(400, "no_such_task")); err == nil {
		t.Error("a 404 whose body says 400 is accepted")
	}
	if err := v.ValidateAnswer("/api/containers", 429, body(429, "busy")); err == nil {
		t.Error("a 429 from /api/containers, which is not limited, is accepted")
	}
	if err := v.ValidateAnswer("/api/nope", 404, body(404, "unknown_path")); err != nil {
		t.Error(err)
	}
	if err := v.ValidateAnswer("/api/namespaces", 200, body(404, "unknown_path")); err == nil {
		t.Error("an error body as /api/namespaces' 200 is accepted")
	}
}

// The renderers' line fixtures (NAME-*.jsonl: trace's and watch's --json)
// validate line by line against the schema their name starts with, and
// every object of a line is closed.
func TestLineDocumentsValidate(t *testing.T) {
	v := validator(t)
	n := 0
	for _, dir := range documentDirs {
		files, err := filepath.Glob(filepath.Join(dir, "*.jsonl"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			name := schemaOf(v.Names(), filepath.Base(f))
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for i, line := range bytes.Split(bytes.TrimSpace(b), []byte("\n")) {
				if err := v.Validate(name, line); err != nil {
					t.Errorf("%s:%d: %v", f, i+1, err)
					continue
				}
				closed(t, v, name, f, line)
				n++
			}
		}
	}
	if n < 6 {
		t.Errorf("%d lines validated; render/testdata/fixtures/trace-events.jsonl has 6", n)
	}
}
