package sharing

import (
	"errors"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
)

// compareNamespaces compares the ten /proc/PID/ns links by NS_GET_ID, or
// where the kernel has none by (st_dev, st_ino) while both sides' namespaces
// are held open. A link that cannot be read gives an indeterminate verdict
// with the reason; only a task that is gone fails the whole comparison.
func compareNamespaces(a, b *procinfo.Proc) ([]Resource, error) {
	h := namespaces.NewHolder()
	defer h.Close()
	la, err := a.NamespacesHeld(h)
	if err != nil {
		return nil, err
	}
	lb, err := b.NamespacesHeld(h)
	if err != nil {
		return nil, err
	}
	out := make([]Resource, len(la))
	for i := range la {
		out[i] = nsVerdict(la[i], lb[i])
	}
	return out, nil
}

func nsVerdict(a, b procinfo.NSLink) Resource {
	r := Resource{Name: a.Link.Name, Kind: KindNamespace}
	var errs []string
	ns := &[2]namespaces.NS{a.NS, b.NS} // one allocation for both sides' evidence
	for i, l := range [2]procinfo.NSLink{a, b} {
		switch {
		case l.Err != nil:
			errs = append(errs, l.Err.Error())
		case i == 0:
			r.Evidence.A = &ns[0]
		default:
			r.Evidence.B = &ns[1]
		}
	}
	if len(errs) > 0 {
		r.Evidence.Error = strings.Join(errs, "; ")
		r.Note = nsErrNote(a.Link.Name, a.Err, b.Err)
		r.Refused = procinfo.IsDenied(a.Err) || procinfo.IsDenied(b.Err)
		return r
	}
	shared := a.NS.Same(b.NS)
	r.Shared = &shared
	return r
}

// nsErrNote says why a link could not be compared, in terms of what to do.
func nsErrNote(link string, errs ...error) string {
	for _, err := range errs {
		switch {
		case err == nil:
		case procinfo.IsDenied(err):
			return procinfo.DeniedHint("opening /proc/PID/ns")
		case link == "pid_for_children" && errors.Is(err, unix.ENOENT):
			// pidns_for_children_get() hands out the namespace only once
			// it has an init (child_reaper).
			return "pid_for_children cannot be opened: the task unshared CLONE_NEWPID and has forked no child yet, so the new pid namespace has no init and cannot be identified"
		case errors.Is(err, unix.ENOENT):
			return "the task has no namespaces left (a zombie or exiting)"
		}
	}
	return "the namespace link could not be identified"
}
