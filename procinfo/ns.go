package procinfo

import (
	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/namespaces"
)

// NSLink is what one /proc/PID/ns link resolved to.
type NSLink struct {
	Link namespaces.Link
	NS   namespaces.NS
	Err  error // per-link failure: a zombie has no namespaces left (ENOENT)
}

// Namespaces identifies the namespace behind each of the ten links of
// /proc/PID/ns (in namespaces.Links order). A link that cannot be read
// carries its error; the whole call fails only when the task is gone.
//
// Without NS_GET_ID the identities it returns are (st_dev, st_ino), valid
// only while something holds each namespace: to compare them with another
// task's, use NamespacesHeld.
func (p *Proc) Namespaces() ([]NSLink, error) { return p.NamespacesHeld(nil) }

// NamespacesHeld is Namespaces, giving each namespace's fd to h (nil:
// closing it), so that the identities stay comparable until h is closed.
func (p *Proc) NamespacesHeld(h *namespaces.Holder) ([]NSLink, error) {
	out := make([]NSLink, 0, len(namespaces.Links))
	for _, l := range namespaces.Links {
		ns, err := p.namespace(l.Name, h)
		out = append(out, NSLink{Link: l, NS: ns, Err: err})
	}
	if err := p.Alive(); err != nil {
		return nil, err
	}
	return out, nil
}

// Namespace identifies the namespace behind /proc/PID/ns/<link>.
func (p *Proc) Namespace(link string) (namespaces.NS, error) { return p.namespace(link, nil) }

// NamespaceHeld is Namespace, giving the namespace's fd to h, so that
// its identity stays comparable (and its inode not reused) until h is
// closed.
func (p *Proc) NamespaceHeld(link string, h *namespaces.Holder) (namespaces.NS, error) {
	return p.namespace(link, h)
}

func (p *Proc) namespace(link string, h *namespaces.Holder) (namespaces.NS, error) {
	fd, err := p.OpenNS(link)
	if err != nil {
		return namespaces.NS{}, err
	}
	ns, err := namespaces.FromFD(fd)
	if err != nil || h == nil {
		unix.Close(fd)
		if err != nil {
			return namespaces.NS{}, p.err("identify", "ns/"+link, err)
		}
		return ns, nil
	}
	h.Hold(fd, ns)
	return ns, nil
}

// OpenNS opens /proc/PID/ns/<link> and returns an nsfs fd the caller
// closes; while it is open the namespace cannot die and its inode cannot be
// reused.
func (p *Proc) OpenNS(link string) (int, error) {
	return p.Openat("ns/"+link, unix.O_RDONLY)
}
