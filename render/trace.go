package render

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/policy"
)

// TraceJSON writes e as one line of JSON: trace and watch print one
// object per line.
func TraceJSON(w io.Writer, e *inspect.TraceEvent) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(e)
}

// Trace writes e as one line:
//
//	12.345678 fork    sh[100/100] -> [101/101] process SIGCHLD  same: ...  different: ...  neither: ...
//	12.345699 unshare unshare[100/100] CLONE_NEWNET  replaced: net 4026531833->4026532174 nsproxy
//	12.345700 setns   nsenter[102/102] fd 3 = net 4026532174  replaced: net ...
//	12.345800 exec    true[103/103] (was sh[103])  replaced: mm, cred
//	12.345900 exit    true[103/103] exit code 0  freed: files, fs, mm, ...
//	12.346100 death   net 4026532174
//
// Namespaces that differ are shown with both inodes; an end line begins
// with "#".
func Trace(w io.Writer, e *inspect.TraceEvent) error {
	var b strings.Builder
	if e.Event == "end" {
		end := e.TraceEnd
		fmt.Fprintf(&b, "# end: %s, %d events, %d lost", end.Reason, end.Events, end.Lost)
		if end.LostExits > 0 {
			fmt.Fprintf(&b, " (and %d exit records)", end.LostExits)
		}
		if end.Missed > 0 {
			fmt.Fprintf(&b, ", %d missed", end.Missed)
		}
		if end.Violations > 0 || end.Undecided > 0 {
			fmt.Fprintf(&b, ", policy: %d violations, %d undecided", end.Violations, end.Undecided)
		}
		if end.ExitCode != nil {
			fmt.Fprintf(&b, ", exit code %d", *end.ExitCode)
		}
		if end.Signal != "" {
			fmt.Fprintf(&b, " (%s)", end.Signal)
		}
		if len(end.Unseen) > 0 {
			fmt.Fprintf(&b, "; not seen on this kernel: %s", strings.Join(end.Unseen, "; "))
		}
		b.WriteByte('\n')
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "%d.%06d %-7s", e.BoottimeNS/1e9, e.BoottimeNS%1e9/1e3, e.Event)
	if e.Caller != nil {
		fmt.Fprintf(&b, " %s", task(e.Caller))
	}
	switch e.Event {
	case "fork":
		if e.Child == nil {
			// A failed one: the call, what it asked for, the errno.
			fmt.Fprintf(&b, " %s %s", e.Syscall, flagsOr(e.Flags, "0"))
			if e.ExitSignal != "" {
				fmt.Fprintf(&b, " exit %s", e.ExitSignal)
			}
			result(&b, e)
			break
		}
		fmt.Fprintf(&b, " -> [%d/%d] %s %s", e.Child.PID, e.Child.TID, childKind(e), flagsOr(e.Flags, "0"))
		if e.ExitSignal != "" {
			fmt.Fprintf(&b, " exit %s", e.ExitSignal)
		}
		groups(&b, e.Sharing, "same", "different", "neither")
	case "unshare":
		fmt.Fprintf(&b, " %s", flagsOr(e.Flags, "0"))
		result(&b, e)
	case "exec":
		fmt.Fprintf(&b, " (was %s[%d])", e.Before.Comm, e.Before.TID)
		groups(&b, e.Changes, "replaced")
	case "death":
		fmt.Fprintf(&b, " %s %d", e.Namespace.Type.Name(), e.Namespace.Ino)
		if e.Namespace.ID != 0 {
			fmt.Fprintf(&b, " (ns_id %d)", e.Namespace.ID)
		}
	case "exit":
		switch s := e.Status; {
		case s == nil:
		case s.Code != nil:
			fmt.Fprintf(&b, " exit code %d", *s.Code)
		default:
			fmt.Fprintf(&b, " killed by %s", s.Signal)
			if s.Core {
				b.WriteString(" (core dumped)")
			}
		}
		if len(e.Freed) > 0 {
			fmt.Fprintf(&b, "  freed: %s", strings.Join(e.Freed, ", "))
		}
	case "setns":
		fmt.Fprintf(&b, " fd %d", *e.FD)
		switch {
		case e.Entered != nil:
			fmt.Fprintf(&b, " = %s %d", e.Entered.Type.Name(), e.Entered.Ino)
		case e.TargetPID != 0:
			fmt.Fprintf(&b, " = pidfd of %d", e.TargetPID)
		default:
			fmt.Fprintf(&b, " (%s)", e.FDKind)
		}
		fmt.Fprintf(&b, " nstype %s", flagsOr(e.Flags, "0"))
		result(&b, e)
	}
	if len(e.Born) > 0 {
		names := make([]string, len(e.Born))
		for i, n := range e.Born {
			names[i] = fmt.Sprintf("%s %d", n.Type.Name(), n.Ino)
		}
		fmt.Fprintf(&b, "  born: %s", strings.Join(names, ", "))
	}
	b.WriteByte('\n')
	_, err := io.WriteString(w, b.String())
	return err
}

func task(t *inspect.TraceTask) string {
	s := fmt.Sprintf("%s[%d/%d]", t.Comm, t.PID, t.TID)
	if t.Kind != "user" {
		s += " " + t.Kind
	}
	if c := t.Container; c != nil {
		name := c.Name
		if name == "" {
			name = c.ID
		}
		s += " in " + c.Engine + ":" + name
	}
	return s
}

// childKind: "thread" for a task of its caller's group, else "process",
// and the worker or kernel thread kind.
func childKind(e *inspect.TraceEvent) string {
	k := "process"
	if e.Child.PID == e.Caller.PID {
		k = "thread"
	}
	if e.Child.Kind != "user" {
		k += "," + e.Child.Kind
	}
	return k
}

func flagsOr(f []string, none string) string {
	if len(f) == 0 {
		return none
	}
	return strings.Join(f, "|")
}

func result(b *strings.Builder, e *inspect.TraceEvent) {
	if e.Errno != "" {
		fmt.Fprintf(b, " = %s", e.Errno)
		if len(e.Explain) > 0 {
			fmt.Fprintf(b, " (%s)", strings.Join(e.Explain, "; "))
		}
		return
	}
	groups(b, e.Changes, "replaced")
}

// groups lists the rows of each verdict in order, a namespace that
// differs with both inodes.
func groups(b *strings.Builder, rows []inspect.TraceShare, verdicts ...string) {
	for _, v := range verdicts {
		var names []string
		for _, r := range rows {
			if r.Verdict != v {
				continue
			}
			n := r.Name
			if (v == "different" || v == "replaced") && (r.A != nil && r.A.Ino != 0 || r.B != nil && r.B.Ino != 0) {
				n += fmt.Sprintf(" %s->%s", ino(r.A), ino(r.B))
			}
			names = append(names, n)
		}
		if len(names) > 0 {
			fmt.Fprintf(b, "  %s: %s", v, strings.Join(names, ", "))
		}
	}
}

func ino(r *inspect.TraceRef) string {
	if r == nil {
		return "none"
	}
	return fmt.Sprint(r.Ino)
}

// TraceNotice prints one of the trace's notices (inspect.TraceOptions):
// what it still waits for, an exit it did not see.
func TraceNotice(w io.Writer, notice string) {
	fmt.Fprintf(w, "nsinspect: trace: %s\n", notice)
}

// LostWarning is the line on stderr when the ring buffer overflowed.
func LostWarning(w io.Writer, lost uint64) {
	fmt.Fprintf(w, "nsinspect: %d events were lost: the kernel's ring buffer was full (the end line counts them)\n", lost)
}

// PolicyViolation is the stderr line for an event that a rule of watch
// --policy forbids, or that it cannot decide.
func PolicyViolation(w io.Writer, v policy.EventViolation) {
	fmt.Fprintf(w, "nsinspect: policy: %s\n", v)
}

// MissedWarning is the stderr line for programs the kernel skipped.
func MissedWarning(w io.Writer, missed uint64) {
	fmt.Fprintf(w, "nsinspect: the kernel skipped the tracer's programs %d times because another BPF program was running on that CPU: events may be missing (the end line's \"missed\")\n", missed)
}
