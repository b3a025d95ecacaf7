package sharing

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/engine"
	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
	// Named words: this package's verdict helper has the package's name.
	words "github.com/nsinspect/nsinspect/verdict"
)

// Report is what two tasks share.
type Report struct {
	A         Task       `json:"a"`
	B         Task       `json:"b"`
	Resources []Resource `json:"resources"`           // ResourceNames order
	FDs       []FDPair   `json:"fds"`                 // fd numbers open in both tasks; nil when not compared
	FDError   string     `json:"fds_error,omitempty"` // why the fd tables could not be listed
}

// Task names one of the compared tasks.
type Task struct {
	PID  int    `json:"pid"`
	TID  int    `json:"tid"`
	Comm string `json:"comm"`
	// Container is the container the task runs in; Compare leaves it
	// nil, callers that recognise containers fill it in.
	Container *engine.Container `json:"container,omitempty"`
	// OtherNetSockets are the task's sockets made in another network
	// namespace than its own; Compare leaves it nil, callers fill it in
	// (inspect.OtherNetSockets).
	OtherNetSockets []SocketNet `json:"sockets_other_netns,omitempty"`
}

// SocketNet is a socket fd of a task and the network namespace it was
// made in (SIOCGSKNS), where that is not the task's own.
type SocketNet struct {
	FD int           `json:"fd"`
	NS namespaces.NS `json:"netns"`
}

func (t Task) String() string {
	if t.TID != t.PID {
		return fmt.Sprintf("pid %d thread %d (%s)", t.PID, t.TID, t.Comm)
	}
	return fmt.Sprintf("pid %d (%s)", t.PID, t.Comm)
}

// Resource is the verdict on one shareable thing.
type Resource struct {
	Name     string   `json:"name"`
	Kind     string   `json:"kind"`   // KindNamespace or KindKcmp
	Shared   *bool    `json:"shared"` // nil: indeterminate, see Note
	Evidence Evidence `json:"evidence"`
	Note     string   `json:"note,omitempty"` // why indeterminate, or a caveat
	// Refused is set when the verdict is indeterminate because the
	// kernel refused a read or kcmp (EACCES, EPERM): more privilege
	// would decide it.
	Refused bool `json:"-"`
}

const (
	KindNamespace = "namespace"
	KindKcmp      = "kcmp"
)

// Verdict is "shared", "separate" or "indeterminate": the words of
// package verdict, which every view of a verdict uses.
func (r Resource) Verdict() string { return verdict(r.Shared) }

// verdict is the word for a *bool verdict (expect.go's messages use it).
func verdict(b *bool) string { return words.Of(b).String() }

// Evidence is what the kernel answered. For a namespace link: both
// namespaces (NS_GET_ID and inode). For kcmp: the type, its result and, for
// KCMP_IO and KCMP_SYSVSEM, whether each pointer is NULL.
type Evidence struct {
	A      *namespaces.NS `json:"a,omitempty"`
	B      *namespaces.NS `json:"b,omitempty"`
	Kcmp   string         `json:"kcmp,omitempty"`
	Result *int           `json:"result,omitempty"` // 0 same, 1 or 2 different
	// NullRef is the pid of the reference task whose pointer is NULL; ANull
	// and BNull say whether each task's pointer equalled it.
	NullRef int    `json:"null_ref,omitempty"`
	ANull   *bool  `json:"a_null,omitempty"`
	BNull   *bool  `json:"b_null,omitempty"`
	Error   string `json:"error,omitempty"` // the failed call, with errno
}

// String is the evidence in one short phrase, for tables and assertion
// messages: "ids 3 != 4101 (net:[4026531840], net:[4026532178])".
func (e Evidence) String() string {
	var s string
	switch {
	case e.A != nil && e.B != nil:
		op := "!="
		if e.A.Same(*e.B) {
			op = "=="
		}
		if e.A.ID != 0 && e.B.ID != 0 {
			s = fmt.Sprintf("ids %d %s %d (%s, %s)", e.A.ID, op, e.B.ID, e.A, e.B)
		} else {
			s = fmt.Sprintf("%s %s %s (dev %d, held open)", e.A, op, e.B, e.A.Dev)
		}
	case e.Result != nil:
		s = fmt.Sprintf("kcmp %s = %d", e.Kcmp, *e.Result)
		if held := e.held(); held != "" {
			s += "; " + held
		}
	}
	if e.Error != "" {
		if s != "" {
			s += "; "
		}
		s += e.Error
	}
	return s
}

// nullableObject names what KCMP_IO and KCMP_SYSVSEM compare: pointers
// that stay NULL until the task first needs the object.
var nullableObject = map[string]string{
	"KCMP_IO":      "an io_context",
	"KCMP_SYSVSEM": "a SysV semaphore undo list",
}

// held says in words which task has the object a KCMP_IO or KCMP_SYSVSEM
// comparison is about, from the NULL check against kthreadd; "" when the
// check did not run.
func (e Evidence) held() string {
	obj := nullableObject[e.Kcmp]
	if obj == "" || e.ANull == nil || e.BNull == nil {
		return ""
	}
	switch a, b := !*e.ANull, !*e.BNull; {
	case a && b:
		return fmt.Sprintf("both tasks have %s (neither equals kthreadd's NULL)", obj)
	case a:
		return fmt.Sprintf("only A has %s (B's equals kthreadd's NULL)", obj)
	case b:
		return fmt.Sprintf("only B has %s (A's equals kthreadd's NULL)", obj)
	}
	return fmt.Sprintf("neither task has %s yet (kcmp treats two NULLs as equal)", obj)
}

// FDPair is one fd number open in both tasks.
type FDPair struct {
	FD     int    `json:"fd"`
	Shared *bool  `json:"shared"` // KCMP_FILE: the same open file description
	A      string `json:"a"`      // link target in task A
	B      string `json:"b"`
	Error  string `json:"error,omitempty"`
}

// kcmpResources are the kcmp(2) types compared, in report order.
var kcmpResources = []struct {
	name string
	typ  linux.KcmpType
}{
	{"files", linux.KCMP_FILES},
	{"fs", linux.KCMP_FS},
	{"vm", linux.KCMP_VM},
	{"sighand", linux.KCMP_SIGHAND},
	{"io", linux.KCMP_IO},
	{"sysvsem", linux.KCMP_SYSVSEM},
}

// ResourceNames lists the sixteen resources in report order: the ten
// /proc/PID/ns links, then the kcmp(2) resources.
func ResourceNames() []string {
	out := make([]string, 0, len(namespaces.Links)+len(kcmpResources))
	for _, l := range namespaces.Links {
		out = append(out, l.Name)
	}
	return append(out, KcmpNames()...)
}

// KcmpNames lists the kcmp(2) resources in report order: files fs vm
// sighand io sysvsem.
func KcmpNames() []string {
	out := make([]string, 0, len(kcmpResources))
	for _, k := range kcmpResources {
		out = append(out, k.name)
	}
	return out
}

// Resource returns the verdict called name.
func (r *Report) Resource(name string) (Resource, bool) {
	for _, res := range r.Resources {
		if res.Name == name {
			return res, true
		}
	}
	return Resource{}, false
}

// Compare reports what tasks a and b share. It fails, with an error that
// matches procinfo.ErrProcessGone and names the task, when either exits
// before the comparison is complete.
func Compare(a, b *procinfo.Proc) (*Report, error) {
	ta, err := pinThread(a)
	if err != nil {
		return nil, err
	}
	defer ta.close()
	tb, err := pinThread(b)
	if err != nil {
		return nil, err
	}
	defer tb.close()
	alive := func() error {
		if err := ta.alive(); err != nil {
			return err
		}
		return tb.alive()
	}

	r := &Report{A: ta.task, B: tb.task}
	ns, err := compareNamespaces(a, b)
	if err != nil {
		return nil, err
	}
	r.Resources = append(ns, compareKcmp(ta, tb)...)
	r.FDs, r.FDError = compareFDs(a, b)
	// Everything above read by number or through /proc: only if both are
	// still the tasks we pinned does the report describe them.
	if err := alive(); err != nil {
		return nil, err
	}
	return r, nil
}

// thread is one task pinned for kcmp, which takes a thread id: a thread can
// exit (and its tid be reused) while its process lives on. Where the
// kernel has PIDFD_THREAD (6.9) the thread has a pidfd of its own;
// elsewhere pidfd is -1 and the thread's /proc/PID/task/TID directory fd,
// which p holds and which answers ENOENT or ESRCH once that thread is
// gone, is the pin.
type thread struct {
	p     *procinfo.Proc
	task  Task
	pidfd int
}

func pinThread(p *procinfo.Proc) (*thread, error) {
	t := &thread{p: p, pidfd: -1, task: Task{PID: p.PID, TID: p.TID}}
	if features.Has(features.PidfdThread) {
		fd, err := linux.PidfdOpenThread(p.TID)
		if err != nil {
			return nil, goneErr(p, err)
		}
		t.pidfd = fd
	}
	// The pidfd was opened by number after p was pinned; reading through
	// p's directory fd proves the number still named p's thread then (the
	// directory of a dead thread answers ESRCH or ENOENT).
	st, err := t.stat()
	if err != nil {
		t.close()
		return nil, err
	}
	t.task.Comm = st.Comm
	return t, t.alive()
}

// stat reads the thread's stat through its pinned directory; a thread
// that is gone is reported as such.
func (t *thread) stat() (procinfo.Stat, error) {
	st, err := t.p.Stat()
	if err != nil {
		if aerr := t.p.Alive(); aerr != nil {
			return st, aerr
		}
		if errors.Is(err, procinfo.ErrProcessGone) || errors.Is(err, unix.ENOENT) {
			return st, goneErr(t.p, unix.ESRCH)
		}
	}
	return st, err
}

func (t *thread) alive() error {
	if err := t.p.Alive(); err != nil {
		return err
	}
	if t.pidfd < 0 {
		_, err := t.stat()
		return err
	}
	if err := linux.PidfdAlive(t.pidfd); err != nil {
		return goneErr(t.p, err)
	}
	return nil
}

func (t *thread) close() {
	if t.pidfd >= 0 {
		unix.Close(t.pidfd)
	}
}

// goneErr is a procinfo.Error, so that it names the task and matches
// ErrProcessGone like every other error about a task that exited.
func goneErr(p *procinfo.Proc, err error) error {
	if errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENOENT) || errors.Is(err, unix.EINVAL) {
		err = unix.ESRCH
	}
	tid := p.TID
	if tid == p.PID {
		tid = 0
	}
	return &procinfo.Error{PID: p.PID, TID: tid, Op: "check", Err: err}
}
