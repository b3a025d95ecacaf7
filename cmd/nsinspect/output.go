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

// idSuffix is " id N" after a namespace's inode, or nothing on a kernel
// without NS_GET_ID (before 6.18), where the inode is the identity.
func idSuffix(id uint64) string { return render.IDSuffix(id) }
