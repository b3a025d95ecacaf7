package clone

import (
	"errors"
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
	"github.com/nsinspect/nsinspect/sharing"
)

// UnshareFlags are the flags unshare(2) takes.
const UnshareFlags = NamespaceFlags | unix.CLONE_FILES | unix.CLONE_FS | unix.CLONE_SYSVSEM |
	unix.CLONE_VM | unix.CLONE_SIGHAND | unix.CLONE_THREAD

// UnshareReport is one unshare(2) experiment: the caller's namespace links
// before and after, and those of the caller's next child.
type UnshareReport struct {
	Flags       []string `json:"flags"`
	Value       uint64   `json:"value"`
	ValueHex    string   `json:"value_hex"`
	Syscall     string   `json:"syscall"` // "unshare"
	Errno       *string  `json:"errno"`
	Error       string   `json:"error,omitempty"`
	Explanation []string `json:"explanation,omitempty"`
	Mode        string   `json:"mode"`
	Thread      bool     `json:"thread"` // called by one thread of a two-thread process

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

// expectUnshareChange says whether a link changes when the caller unshares
// flags: a namespace link changes for its flag, except that CLONE_NEWPID
// and CLONE_NEWTIME only change the *_for_children link, because a task
// never changes its own PID or time namespace (pid_namespaces(7),
// time_namespaces(7)).
func expectUnshareChange(flags FlagSet, link string) bool {
	switch link {
	case "pid", "time":
		return false
	case "pid_for_children":
		return flags.Has(unix.CLONE_NEWPID)
	case "time_for_children":
		return flags.Has(unix.CLONE_NEWTIME)
	}
	for _, e := range expectations {
		if e.name == link {
			return flags.Has(e.flag)
		}
	}
	return false
}

// RunUnshare carries out one unshare(2) experiment, in a lab unless Host.
func RunUnshare(req Request) (*UnshareReport, error) {
	req.Op = opNameUnshare
	if err := req.needs(); err != nil {
		return nil, err
	}
	if req.Host {
		var rep *UnshareReport
		err := onHost(func() (err error) { rep, err = unshareReport(req, "host"); return })
		return rep, err
	}
	var rep UnshareReport
	if err := runLab(req, &rep); err != nil {
		return nil, err
	}
	return &rep, nil
}

func unshareReport(req Request, mode string) (*UnshareReport, error) {
	rep := &UnshareReport{
		Flags: req.Flags.Names(), Value: uint64(req.Flags), ValueHex: fmt.Sprintf("%#x", uint64(req.Flags)),
		Syscall: "unshare", Mode: mode, Thread: req.Thread, Links: []LinkChange{}, Kcmp: []Resource{}, Disagreements: []string{},
	}
	// The caller: the experiment's parent, or with --thread its second
	// thread, which shares everything with the leader before the call.
	var spawnFlags FlagSet
	if req.Thread {
		spawnFlags = unix.CLONE_VM | unix.CLONE_SIGHAND | unix.CLONE_THREAD | unix.CLONE_FILES | unix.CLONE_FS | unix.CLONE_SYSVSEM | unix.CLONE_IO
	}
	p, err := spawnPair(spawnFlags, false, -1)
	if err != nil {
		return nil, err
	}
	defer p.stop()
	caller, callerProc := &p.parent, p.parentProc
	if req.Thread {
		if err := p.cloneChild(); err != nil {
			return nil, fmt.Errorf("making the second thread: %w", err)
		}
		caller, callerProc = &p.child, p.childProc
	}
	// Held until judged: without NS_GET_ID an inode is the identity, and a
	// namespace the call leaves must not pass its inode to a new one.
	held := namespaces.NewHolder()
	defer held.Close()
	before, err := callerProc.NamespacesHeld(held)
	if err != nil {
		return nil, err
	}
	if _, _, err := caller.do(opUnshare, int32(uint32(req.Flags)), ""); err != nil {
		var errno syscall.Errno
		if !errors.As(err, &errno) {
			return nil, err
		}
		name := errnoName(errno)
		rep.Errno, rep.Error = &name, errno.Error()
		rep.Explanation = ExplainUnshare(req.Flags, errno, req.Thread)
		return rep, nil
	}
	atCall, err := callerProc.Namespaces()
	if err != nil {
		return nil, err
	}
	if req.Thread {
		rep.Leader = snapshot(p.parentProc)
		cmp, err := sharing.Compare(p.parentProc, p.childProc)
		if err != nil {
			return nil, err
		}
		for _, r := range cmp.Resources {
			if left, ok := threadLeaves(req.Flags, r.Name); ok {
				r = decided(r)
				exp := !left
				rep.Kcmp = append(rep.Kcmp, Resource{Name: r.Name, Kind: r.Kind, Shared: r.Shared, Evidence: r.Evidence, Note: r.Note,
					Expected: exp, Agree: r.Shared != nil && *r.Shared == exp})
			}
		}
	} else if err := p.nextChild(rep); err != nil {
		return nil, err
	}
	// Read again once the next child exists: a new PID namespace has no
	// pid_for_children link (ENOENT) until its first process, its init.
	after, err := callerProc.Namespaces()
	if err != nil {
		return nil, err
	}
	rep.Caller = snapshot(callerProc)
	rep.judge(before, atCall, after)
	return rep, nil
}

// threadLeaves says whether a thread that unshares flags stops sharing a
// kcmp resource with its leader; ok is false for the resources the --thread
// view does not show. ksys_unshare adds implied flags: CLONE_NEWNS (and
// CLONE_NEWUSER) imply CLONE_FS, and CLONE_NEWIPC detaches the SysV undo
// list as CLONE_SYSVSEM does, since its semaphores stay in the old IPC
// namespace.
func threadLeaves(flags FlagSet, name string) (left, ok bool) {
	switch name {
	case "files":
		return flags.Has(unix.CLONE_FILES), true
	case "fs":
		return flags.Has(unix.CLONE_FS) || flags.Has(unix.CLONE_NEWNS) || flags.Has(unix.CLONE_NEWUSER), true
	case "sysvsem":
		return flags.Has(unix.CLONE_SYSVSEM) || flags.Has(unix.CLONE_NEWIPC), true
	}
	return false, false
}

// nextChild makes the caller clone a plain child and records its links:
// that is when a new PID or time namespace is first entered.
func (p *pair) nextChild(rep *UnshareReport) error {
	if err := p.cloneChild(); err != nil {
		return fmt.Errorf("making the caller's next child: %w", err)
	}
	rep.Child = snapshot(p.childProc)
	return nil
}

func (r *UnshareReport) judge(before, atCall, after []procinfo.NSLink) {
	flags := FlagSet(r.Value)
	for i, b := range before {
		a := after[i]
		lc := LinkChange{Link: b.Link.Name, Before: NSEntry{b.Link.Name, b.NS.ID, b.NS.Ino}, After: NSEntry{a.Link.Name, a.NS.ID, a.NS.Ino}}
		if e := atCall[i].Err; e != nil {
			lc.AtCall = fmt.Sprintf("right after the call: %v", e)
			if lc.Link == "pid_for_children" && errors.Is(e, unix.ENOENT) {
				lc.AtCall = "right after the call: ENOENT, the new PID namespace has no process until the next child, its init"
			}
		}
		lc.Changed = !b.NS.Same(a.NS)
		lc.Expected = expectUnshareChange(flags, lc.Link)
		lc.Agree = lc.Changed == lc.Expected && b.Err == nil && a.Err == nil
		if r.Child != nil && (lc.Link == "pid_for_children" || lc.Link == "time_for_children") {
			own := lc.Link[:len(lc.Link)-len("_for_children")]
			if c, ok := r.Child.nsLink(own); ok {
				in := c.same(lc.After)
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
			r.Disagreements = append(r.Disagreements, fmt.Sprintf("%s: expected %s after the call, kcmp says %s", k.Name, verdictWord(&k.Expected), verdictWord(k.Shared)))
		}
	}
}

func changeWord(b bool) string {
	if b {
		return "changed"
	}
	return "unchanged"
}

// ExplainUnshare lists the unshare(2) rules behind an errno.
func ExplainUnshare(flags FlagSet, errno syscall.Errno, thread bool) []string {
	var out []string
	if errno == unix.EINVAL && thread && flags.Has(unix.CLONE_NEWUSER) {
		out = append(out, "a multi-threaded process cannot unshare CLONE_NEWUSER: all threads of a group share one set of credentials' user namespace")
	}
	if errno == unix.EINVAL && thread && uint64(flags)&(unix.CLONE_VM|unix.CLONE_SIGHAND|unix.CLONE_THREAD) != 0 {
		out = append(out, "CLONE_VM, CLONE_SIGHAND and CLONE_THREAD can only be unshared by a single-threaded process, where they change nothing")
	}
	if errno == unix.EINVAL && uint64(flags)&^UnshareFlags != 0 {
		out = append(out, "unshare(2) accepts only CLONE_NEW*, CLONE_FILES, CLONE_FS, CLONE_SYSVSEM (and CLONE_VM/SIGHAND/THREAD as no-ops): not "+FlagSet(uint64(flags)&^UnshareFlags).String())
	}
	if errno == unix.EPERM {
		out = append(out, "unsharing a namespace other than a user namespace needs CAP_SYS_ADMIN; CLONE_NEWUSER needs the caller not to be chrooted and unprivileged user namespaces to be allowed")
	}
	return out
}
