// Package schematest checks nsinspect's JSON documents against the
// contract of package schema: a --json output against its command's JSON
// Schema, an answer of serve against the OpenAPI document's response for
// its path and status. It is for tests: this module's own, under
// schema/, cmd/nsinspect, server/ and integration/.
package schematest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.yaml.in/yaml/v3"

	"github.com/nsinspect/nsinspect/schema"
)

// Base is the URL the schemas' $id values start with.
const Base = "https://github.com/nsinspect/nsinspect/schema/"

// Validator holds every schema compiled, and the OpenAPI document.
type Validator struct {
	schemas map[string]*jsonschema.Schema // by name: "ls", "fds-kernel"
	api     openAPI
}

// New compiles every schema of package schema and reads openapi.yaml.
func New() (*Validator, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	files, err := fs.Glob(schema.FS, "*.json")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		b, err := schema.FS.ReadFile(f)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			return nil, fmt.Errorf("schema/%s: %w", f, err)
		}
		if err := c.AddResource(Base+f, doc); err != nil {
			return nil, fmt.Errorf("schema/%s: %w", f, err)
		}
	}
	v := &Validator{schemas: map[string]*jsonschema.Schema{}}
	for _, f := range files {
		if f == "common.json" {
			continue // definitions only
		}
		s, err := c.Compile(Base + f)
		if err != nil {
			return nil, fmt.Errorf("compiling schema/%s: %w", f, err)
		}
		v.schemas[strings.TrimSuffix(f, ".json")] = s
	}
	b, err := schema.FS.ReadFile("openapi.yaml")
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&v.api); err != nil {
		return nil, fmt.Errorf("schema/openapi.yaml: %w", err)
	}
	return v, v.checkAPI()
}

// Names are the documents' schema names, sorted.
func (v *Validator) Names() []string {
	var out []string
	for n := range v.schemas {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// Validate checks doc, one JSON value and nothing after it, against the
// schema called name.
func (v *Validator) Validate(name string, doc []byte) error {
	s, ok := v.schemas[name]
	if !ok {
		return fmt.Errorf("no schema %q (schema/ has %s)", name, strings.Join(v.Names(), ", "))
	}
	val, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return fmt.Errorf("not one JSON document: %w", err)
	}
	if err := s.Validate(val); err != nil {
		return fmt.Errorf("does not validate against schema/%s.json: %v", name, err)
	}
	return nil
}

// jsonCommands are the commands that print a document with --json, by
// the name of their schema.
var jsonCommands = []string{"audit", "clone", "compare", "explain", "features", "fds", "kthreads", "ls", "matrix", "nsproxy", "show", "struct", "unshare"}

// lineCommands print one document per line, each against the schema
// "trace".
var lineCommands = []string{"trace", "watch"}

// ForArgs is the schema of what `nsinspect ARGS...` prints on stdout:
// "" when it prints no JSON document (no --json, --help, or a command
// without one).
func ForArgs(args []string) string {
	cmd, asJSON, kernel := "", false, false
	for _, a := range args {
		if slices.Contains(lineCommands, cmd) && (a == "--" || !strings.HasPrefix(a, "-")) {
			break // trace's command and its arguments
		}
		switch {
		case a == "-h" || a == "--help":
			return ""
		case a == "--json" || a == "--json=true" || a == "-J":
			asJSON = true
		case a == "--kernel" || a == "--kernel=true":
			kernel = true
		case cmd == "" && !strings.HasPrefix(a, "-"):
			cmd = a
		}
	}
	if asJSON && slices.Contains(lineCommands, cmd) {
		return "trace"
	}
	if !asJSON || !slices.Contains(jsonCommands, cmd) {
		return ""
	}
	if cmd == "fds" && kernel {
		return "fds-kernel"
	}
	return cmd
}

// ValidateArgs checks what `nsinspect ARGS...` printed on stdout against
// its schema, when ARGS ask for a document and one was printed: an
// output that is empty (nsinspect failed before it printed) is not a
// document.
func (v *Validator) ValidateArgs(args []string, stdout []byte) error {
	name := ForArgs(args)
	if name == "" || len(bytes.TrimSpace(stdout)) == 0 {
		return nil
	}
	if name == "trace" {
		for i, line := range bytes.Split(bytes.TrimSpace(stdout), []byte("\n")) {
			if err := v.Validate(name, line); err != nil {
				return fmt.Errorf("nsinspect %s: line %d of stdout %w", strings.Join(args, " "), i+1, err)
			}
		}
		return nil
	}
	if err := v.Validate(name, stdout); err != nil {
		return fmt.Errorf("nsinspect %s: stdout %w", strings.Join(args, " "), err)
	}
	return nil
}

// openAPI is the part of openapi.yaml an answer is checked with.
type openAPI struct {
	OpenAPI           string              `yaml:"openapi"`
	JSONSchemaDialect string              `yaml:"jsonSchemaDialect"`
	Info              map[string]any      `yaml:"info"`
	StatusCodes       map[int][]string    `yaml:"x-status-codes"`
	Servers           []map[string]string `yaml:"servers"`
	Paths             map[string]struct {
		Get operation `yaml:"get"`
	} `yaml:"paths"`
	Components struct {
		Responses map[string]response `yaml:"responses"`
	} `yaml:"components"`
}

type operation struct {
	OperationID string              `yaml:"operationId"`
	Summary     string              `yaml:"summary"`
	Parameters  []Param             `yaml:"parameters"`
	Responses   map[string]response `yaml:"responses"`
}

// Param is a query parameter of a path.
type Param struct {
	Name        string         `yaml:"name"`
	In          string         `yaml:"in"`
	Required    bool           `yaml:"required"`
	Description string         `yaml:"description"`
	Schema      map[string]any `yaml:"schema"`
}

type response struct {
	Ref         string         `yaml:"$ref"`
	Description string         `yaml:"description"`
	Headers     map[string]any `yaml:"headers"`
	Content     map[string]struct {
		Schema struct {
			Ref  string `yaml:"$ref"`
			Type string `yaml:"type"`
		} `yaml:"schema"`
	} `yaml:"content"`
}

// checkAPI checks that every response of openapi.yaml resolves: to a
// schema of schema/ for JSON, to a status of x-status-codes for an
// error.
func (v *Validator) checkAPI() error {
	if !strings.HasPrefix(v.api.OpenAPI, "3.1.") {
		return fmt.Errorf("schema/openapi.yaml: openapi %q, want 3.1.x", v.api.OpenAPI)
	}
	if got := fmt.Sprint(v.api.Info["version"]); got != strconv.Itoa(schema.Current) {
		return fmt.Errorf("schema/openapi.yaml: info.version %q, want the schema_version %d", got, schema.Current)
	}
	for path, p := range v.api.Paths {
		for status := range p.Get.Responses {
			if _, _, err := v.answer(path, status); err != nil {
				return fmt.Errorf("schema/openapi.yaml: %s %s: %w", path, status, err)
			}
		}
	}
	return nil
}

// answer is the media type and schema name of path's answer with status.
func (v *Validator) answer(path, status string) (media, name string, err error) {
	p, ok := v.api.Paths[path]
	if !ok {
		return "", "", fmt.Errorf("no path %s", path)
	}
	r, ok := p.Get.Responses[status]
	if !ok {
		return "", "", fmt.Errorf("status %s is not documented for %s", status, path)
	}
	if ref, ok := strings.CutPrefix(r.Ref, "#/components/responses/"); ok {
		if r, ok = v.api.Components.Responses[ref]; !ok {
			return "", "", fmt.Errorf("no response %s", r.Ref)
		}
	}
	if len(r.Content) != 1 {
		return "", "", fmt.Errorf("%d media types, want one", len(r.Content))
	}
	for media, c := range r.Content {
		if media != "application/json" {
			return media, "", nil
		}
		name = strings.TrimSuffix(c.Schema.Ref, ".json")
		if _, ok := v.schemas[name]; !ok {
			return media, "", fmt.Errorf("schema %q is not a schema of schema/", c.Schema.Ref)
		}
		if status == "200" {
			return media, name, nil
		}
		if name != "error" {
			return media, "", fmt.Errorf("an error answers %s, not error.json", c.Schema.Ref)
		}
		if n, err := strconv.Atoi(status); err != nil || v.api.StatusCodes[n] == nil {
			return media, "", fmt.Errorf("status %s is not in x-status-codes", status)
		}
	}
	return "application/json", name, nil
}

// Operation is path's query parameters as openapi.yaml documents them;
// ok is false for an undocumented path.
func (v *Validator) Operation(path string) (params []Param, ok bool) {
	p, ok := v.api.Paths[path]
	return p.Get.Parameters, ok
}

// Documents reports whether openapi.yaml documents status for path.
func (v *Validator) Documents(path string, status int) bool {
	_, ok := v.api.Paths[path].Get.Responses[strconv.Itoa(status)]
	return ok
}

// Paths are the documented paths, sorted.
func (v *Validator) Paths() []string {
	var out []string
	for p := range v.api.Paths {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// StatusCodes is the table of error codes by HTTP status
// (x-status-codes).
func (v *Validator) StatusCodes() map[int][]string { return v.api.StatusCodes }

// ValidateAnswer checks one answer of serve to GET path: its status must
// be documented for the path (an undocumented path answers 404
// unknown_path), its body must validate against the response's schema,
// and an error's body must repeat the status with a code of that
// status's row of x-status-codes.
func (v *Validator) ValidateAnswer(path string, status int, body []byte) error {
	media, name := "application/json", "error"
	if _, documented := v.api.Paths[path]; !documented && status != 404 {
		return fmt.Errorf("GET %s: status %d for an undocumented path, want 404", path, status)
	} else if documented {
		var err error
		if media, name, err = v.answer(path, strconv.Itoa(status)); err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
	}
	if media != "application/json" {
		return nil
	}
	if err := v.Validate(name, body); err != nil {
		return fmt.Errorf("GET %s: %d: %w", path, status, err)
	}
	if status == 200 {
		return nil
	}
	var e struct {
		Error struct {
			Status int    `json:"status"`
			Code   string `json:"code"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return err
	}
	if e.Error.Status != status || !slices.Contains(v.api.StatusCodes[status], e.Error.Code) {
		return fmt.Errorf("GET %s: HTTP %d with error status %d code %q: not a code of %d in schema/openapi.yaml's x-status-codes %v",
			path, status, e.Error.Status, e.Error.Code, status, v.api.StatusCodes[status])
	}
	return nil
}
