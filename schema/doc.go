// Package schema is the JSON contract of nsinspect: what every --json
// output and every answer of `serve`'s /api is, written down.
//
// The directory holds one JSON Schema (draft 2020-12) per document, each
// object closed with "additionalProperties": false, the definitions they
// share (common.json), and an OpenAPI 3.1 document for /api
// (openapi.yaml) whose responses refer to the same schemas. docs/json.md
// says what each key means and what each concept is called.
//
// Every document begins with "schema_version": Current. The number
// changes when a key is renamed or removed, or changes type or meaning;
// a new key is added to the schema in the same change that adds it to
// the output, and the tests of this package and integration/ fail on an
// output that carries a key its schema does not name.
package schema
