package schema

import (
	"embed"
	"fmt"
	"strconv"
)

// Current is the version of the contract: every document's
// schema_version.
const Current = 1

// Version is a document's "schema_version" key. Its zero value encodes
// as Current, so a document type needs only the field; a document of
// another version fails to decode rather than being misread.
type Version struct{}

// MarshalJSON writes Current.
func (Version) MarshalJSON() ([]byte, error) { return []byte(strconv.Itoa(Current)), nil }

// UnmarshalJSON accepts Current only.
func (*Version) UnmarshalJSON(b []byte) error {
	if n, err := strconv.Atoi(string(b)); err != nil || n != Current {
		return fmt.Errorf("schema_version %s: this nsinspect reads version %d", b, Current)
	}
	return nil
}

// FS holds the schemas (NAME.json) and the OpenAPI document
// (openapi.yaml).
//
//go:embed *.json openapi.yaml
var FS embed.FS
