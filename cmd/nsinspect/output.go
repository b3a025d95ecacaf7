package main

import (
	"encoding/json"
	"io"
	"text/tabwriter"

	"github.com/nsinspect/nsinspect/render"
)

// writeJSON writes v as indented JSON followed by a newline.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	// Command lines and struct paths ("task->files") are printed as they
	// are: this JSON goes to terminals and jq, not into HTML.
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// newTable returns a tabwriter laid out like util-linux's tables: columns
// separated by two spaces, left aligned. Flush it when done.
func newTable(w io.Writer) *tabwriter.Writer { return render.NewTable(w) }

// idSuffix is " id N" after a namespace's inode, or nothing on a kernel
// without NS_GET_ID (before 6.18), where the inode is the identity.
func idSuffix(id uint64) string { return render.IDSuffix(id) }
