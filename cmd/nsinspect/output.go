package main

import (
	"io"
	"text/tabwriter"

	"github.com/nsinspect/nsinspect/render"
)

// writeJSON is render.JSON.
func writeJSON(w io.Writer, v any) error { return render.JSON(w, v) }

// newTable returns a tabwriter laid out like util-linux's tables: columns
// separated by two spaces, left aligned. Flush it when done.
func newTable(w io.Writer) *tabwriter.Writer { return render.NewTable(w) }
