package render

import (
	"encoding/json"
	"io"
)

// JSON writes v as indented JSON followed by a newline.
func JSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Command lines and struct paths ("task->files") are printed as they
	// are: this JSON goes to terminals and jq, not into HTML.
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
