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
func (p *Proc) Namespaces() ([]NSLink, error) {
	out := make([]NSLink, 0, len(namespaces.Links))
	for _, l := range namespaces.Links {
		ns, err := p.Namespace(l.Name)
		out = append(out, NSLink{Link: l, NS: ns, Err: err})
	}
	if err := p.Alive(); err != nil {
		return nil, err
	}
	return out, nil
}

// Namespace identifies the namespace behind /proc/PID/ns/<link>.
func (p *Proc) Namespace(link string) (namespaces.NS, error) {
	fd, err := p.OpenNS(link)
	if err != nil {
		return namespaces.NS{}, err
	}
	defer unix.Close(fd)
	ns, err := namespaces.FromFD(fd)
	if err != nil {
		return namespaces.NS{}, p.err("identify", "ns/"+link, err)
	}
	return ns, nil
}

// OpenNS opens /proc/PID/ns/<link> and returns an nsfs fd the caller
// closes; while it is open the namespace cannot die and its inode cannot be
// reused.
func (p *Proc) OpenNS(link string) (int, error) {
	return p.Openat("ns/"+link, unix.O_RDONLY)
}
