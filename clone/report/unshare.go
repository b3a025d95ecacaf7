package report

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/verdict"
)

// Unshare is one unshare(2) experiment: the caller's namespace links
// before and after, and those of the caller's next child.
type Unshare struct {
	Call        // Syscall is "unshare"
	Thread bool `json:"thread"` // called by one thread of a two-thread process

	Caller        *Side        `json:"caller"`     // the task that called unshare, after the call
	Leader        *Side        `json:"leader"`     // --thread: the other thread (the group leader)
	Child         *Side        `json:"next_child"` // a child the caller made after the call
	Links         []LinkChange `json:"links"`      // every ns link, before and after
	Kcmp          []Resource   `json:"kcmp"`       // --thread: leader against caller after the call
	Disagreements []string     `json:"disagreements"`
}

// LinkChange is one /proc/PID/ns link across the call.
type LinkChange struct {
	Link      string  `json:"link"`
	Before    NSEntry `json:"before"`
	After     NSEntry `json:"after"`
	Changed   bool    `json:"changed"`
	AtCall    string  `json:"at_call,omitempty"`   // what reading it right after the call gave, when that failed
	Expected  bool    `json:"expected"`            // whether it should change
	NextChild *bool   `json:"next_child_in_after"` // the next child's own namespace of that type is After
	Agree     bool    `json:"agree"`
}

// Judge compares the caller's links before the call, right after it and
// once the next child exists (in namespaces.Links order each) with what
// unshare(2) says, and lists every disagreement, the --thread view's kcmp
// verdicts included.
func (r *Unshare) Judge(before, atCall, after []procinfo.NSLink) {
	s := flags.Set(r.Value)
	for i, b := range before {
		a := after[i]
		lc := LinkChange{Link: b.Link.Name, Before: NSEntry{Link: b.Link.Name, Ino: b.NS.Ino, ID: b.NS.ID}, After: NSEntry{Link: a.Link.Name, Ino: a.NS.Ino, ID: a.NS.ID}}
		if e := atCall[i].Err; e != nil {
			lc.AtCall = fmt.Sprintf("right after the call: %v", e)
			if lc.Link == "pid_for_children" && errors.Is(e, unix.ENOENT) {
				lc.AtCall = "right after the call: ENOENT, the new PID namespace has no process until the next child, its init"
			}
		}
		lc.Changed = !b.NS.Same(a.NS)
		lc.Expected = flags.UnshareChanges(s, lc.Link)
		lc.Agree = lc.Changed == lc.Expected && b.Err == nil && a.Err == nil
		if r.Child != nil && (lc.Link == "pid_for_children" || lc.Link == "time_for_children") {
			own := lc.Link[:len(lc.Link)-len("_for_children")]
			if c, ok := r.Child.NSLink(own); ok {
				in := c.Same(lc.After)
				lc.NextChild = &in
				lc.Agree = lc.Agree && in
			}
		}
		if !lc.Agree {
			r.Disagreements = append(r.Disagreements, fmt.Sprintf("%s: expected %s, it %s", lc.Link, changeWord(lc.Expected), changeWord(lc.Changed)))
		}
		r.Links = append(r.Links, lc)
	}
	for _, k := range r.Kcmp {
		if !k.Agree {
			r.Disagreements = append(r.Disagreements, fmt.Sprintf("%s: expected %s after the call, kcmp says %s", k.Name, verdict.Of(&k.Expected), verdict.Of(k.Shared)))
		}
	}
}

func changeWord(b bool) string {
	if b {
		return "changed"
	}
	return "unchanged"
}
