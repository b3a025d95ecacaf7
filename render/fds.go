package render

import (
	"fmt"
	"io"
	"strings"

	"github.com/nsinspect/nsinspect/inspect"
)

// FDs prints fds' table: one row per fd.
func FDs(w io.Writer, out inspect.FDs) error {
	tw := NewTable(w)
	fmt.Fprintln(tw, "FD\tKIND\tFLAGS\tPOS\tMNTID\tINODE\tNAME\tDETAIL")
	for _, f := range out.FDs {
		flags := strings.TrimPrefix(strings.ReplaceAll(f.Flags, "|O_", "|"), "O_")
		fmt.Fprintf(tw, "%d\t%s\t%s\t%d\t%d\t%d\t%s\t%s\n", f.FD, f.Kind, flags, f.Pos, f.MntID, f.Inode, f.Path, fdDetail(f))
	}
	return tw.Flush()
}

// fdDetail is the kind-specific column: what a pidfd or nsfs fd refers to,
// an anonymous inode's name.
func fdDetail(f inspect.FD) string {
	switch {
	case f.Pidfd != nil:
		return fmt.Sprintf("pid %d nspid %s", f.Pidfd.Pid, JoinInts(f.Pidfd.NSpid, " "))
	case f.Namespace != nil && f.Namespace.Error != "":
		return "namespace: " + f.Namespace.Error
	case f.Namespace != nil:
		return fmt.Sprintf("%s:[%d]%s", f.Namespace.Type, f.Namespace.Inode, IDSuffix(f.Namespace.ID))
	case f.AnonName != "":
		return f.AnonName
	}
	return ""
}

// FDsKernel prints the walk: a header naming the struct path, one
// row per fd with the kernel's view beside /proc's, then the
// disagreements.
func FDsKernel(w io.Writer, out inspect.FDsKernel) error {
	fmt.Fprintf(w, "pid %d: %s, read from kernel memory by BPF (fdt->max_fds %d), beside readlink /proc/%d/fd/N read just before.\n",
		out.PID, out.Walk, out.MaxFDs, out.PID)
	tw := NewTable(w)
	fmt.Fprintln(tw, "FD\tD_NAME\tI_INO\tTYPE\tFS\t\tREADLINK\tINODE")
	for _, f := range out.FDs {
		kernel, proc := "-\t-\t-\t-", "-\t-"
		if k := f.Kernel; k != nil {
			kernel = fmt.Sprintf("%q\t%d\t%s\t%s", k.Name, k.Ino, k.Type, k.FS)
		}
		if p := f.Proc; p != nil {
			proc = fmt.Sprintf("%s\t%d", p.Link, p.Inode)
		}
		mark := ""
		if len(f.Disagree) > 0 {
			mark = "!"
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", f.FD, kernel, mark, proc)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if out.Agree {
		_, err := fmt.Fprintf(w, "The kernel's table and /proc agree on all %d fds.\n", len(out.FDs))
		return err
	}
	fmt.Fprintln(w, "Disagreements (marked !):")
	for _, f := range out.FDs {
		for _, d := range f.Disagree {
			fmt.Fprintf(w, "  fd %d: %s\n", f.FD, d)
		}
	}
	return nil
}
