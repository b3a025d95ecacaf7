package render

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/nsinspect/nsinspect/nsgroup"
)

// NewTable returns a tabwriter laid out like util-linux's tables: columns
// separated by two spaces, left aligned. Flush it when done.
func NewTable(w io.Writer) *tabwriter.Writer {
	return tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
}

// IDSuffix is " id N" after a namespace's inode, or nothing on a kernel
// without NS_GET_ID (before 6.18), where the inode is the identity.
func IDSuffix(id uint64) string {
	if id == 0 {
		return ""
	}
	return " id " + strconv.FormatUint(id, 10)
}

// JoinInts joins v's numbers with sep.
func JoinInts(v []int, sep string) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, sep)
}

// TaskRef is a task as PID(comm), or PID:TID(comm) for a thread other
// than the leader.
func TaskRef(r nsgroup.TaskRef) string {
	if r.TID != r.PID {
		return fmt.Sprintf("%d:%d(%s)", r.PID, r.TID, r.Comm)
	}
	return fmt.Sprintf("%d(%s)", r.PID, r.Comm)
}
