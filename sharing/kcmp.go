package sharing

import (
	"errors"
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/linux"
	"github.com/nsinspect/nsinspect/procinfo"
)

// kthreaddPID is the reference task for NULL pointers (see doc.go).
const kthreaddPID = 2

// compareKcmp compares the six kcmp(2) resources of two pinned threads.
func compareKcmp(a, b *thread) []Resource {
	same := a.task.TID == b.task.TID
	var ref *nullRef
	out := make([]Resource, 0, len(kcmpResources))
	for _, k := range kcmpResources {
		r := Resource{Name: k.name, Kind: KindKcmp}
		r.Evidence.Kcmp = k.typ.String()
		nullable := k.typ == linux.KCMP_IO || k.typ == linux.KCMP_SYSVSEM
		if nullable && !same {
			if ref == nil {
				ref = openNullRef()
				defer ref.close()
			}
			// NULL checks come before the comparison: a pointer that is
			// non-NULL then is still non-NULL at the comparison, while a
			// NULL one might be allocated in between.
			ref.check(&r, a.task.TID, b.task.TID, k.typ)
		}
		res, err := linux.Kcmp(a.task.TID, b.task.TID, k.typ, 0, 0)
		if err != nil {
			r.Evidence.Error = err.Error()
			r.Note = kcmpErrNote(err)
			r.Refused = procinfo.IsDenied(err)
			out = append(out, r)
			continue
		}
		r.Evidence.Result = &res
		r.Shared, r.Note = kcmpVerdict(res, nullable, same, &r)
		out = append(out, r)
	}
	return out
}

func kcmpVerdict(res int, nullable, same bool, r *Resource) (*bool, string) {
	switch {
	case res == 1 || res == 2:
		return ptr(false), ""
	case res != 0:
		return nil, fmt.Sprintf("kcmp returned %d (not comparable)", res)
	case same:
		return ptr(true), "A and B are the same task"
	case !nullable:
		return ptr(true), ""
	}
	e := r.Evidence
	obj, flag := nullableObject[e.Kcmp], "CLONE_IO"
	if r.Name == "sysvsem" {
		flag = "CLONE_SYSVSEM"
	}
	switch {
	case e.ANull == nil || e.BNull == nil:
		return nil, fmt.Sprintf("kcmp says same, as it does for two tasks without %s (both NULL), and whether they have one could not be checked: %s", obj, r.Note)
	case !*e.ANull && !*e.BNull:
		return ptr(true), ""
	case *e.ANull && *e.BNull:
		return nil, fmt.Sprintf("nothing is shared yet, and %s leaves no trace until one task allocates %s", flag, obj)
	}
	return nil, fmt.Sprintf("whether each task has %s changed during the comparison", obj)
}

func kcmpErrNote(err error) string {
	switch {
	case procinfo.IsDenied(err):
		return procinfo.DeniedHint("kcmp")
	case errors.Is(err, unix.ESRCH):
		return "a task exited during kcmp"
	case errors.Is(err, unix.ENOSYS):
		return "this kernel has no kcmp(2) (CONFIG_KCMP is off)"
	case errors.Is(err, unix.EOPNOTSUPP):
		return "this kernel was built without the resource (CONFIG_SYSVIPC off)"
	}
	return "kcmp failed"
}

// nullRef is kthreadd, pinned, as the reference whose io_context and undo
// list are NULL; err says why it is unusable.
type nullRef struct {
	p   *procinfo.Proc
	err error
}

func openNullRef() *nullRef {
	p, err := procinfo.Open(kthreaddPID)
	if err != nil {
		return &nullRef{err: fmt.Errorf("no kthreadd in view (pid %d): %w", kthreaddPID, err)}
	}
	// In a child pid namespace, pid 2 is some ordinary process.
	st, err := p.Stat()
	if err == nil && (!st.IsKthread() || st.Comm != "kthreadd" || st.PPID != 0) {
		err = fmt.Errorf("pid %d is %q, not kthreadd: nsinspect runs in a child pid namespace", kthreaddPID, st.Comm)
	}
	if err != nil {
		p.Close()
		return &nullRef{err: err}
	}
	return &nullRef{p: p}
}

func (n *nullRef) close() { n.p.Close() }

// check sets ANull and BNull on r, or leaves them nil with the reason in
// r.Note.
func (n *nullRef) check(r *Resource, tidA, tidB int, typ linux.KcmpType) {
	if n.err != nil {
		r.Note = n.err.Error()
		return
	}
	var isNull [2]*bool
	for i, tid := range []int{tidA, tidB} {
		res, err := linux.Kcmp(tid, kthreaddPID, typ, 0, 0)
		if err != nil {
			r.Note = fmt.Sprintf("comparing with kthreadd: %v", err)
			if procinfo.IsDenied(err) {
				r.Note += " (" + procinfo.DeniedHint("kcmp") + ")"
			}
			return
		}
		isNull[i] = ptr(res == 0)
	}
	if err := n.p.Alive(); err != nil {
		r.Note = err.Error()
		return
	}
	r.Evidence.NullRef = kthreaddPID
	r.Evidence.ANull, r.Evidence.BNull = isNull[0], isNull[1]
}

func ptr[T any](v T) *T { return &v }
