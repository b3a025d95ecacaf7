package inspect

import (
	"errors"
	"fmt"
	"io/fs"
	"sync"

	"github.com/nsinspect/nsinspect/namespaces"
	"github.com/nsinspect/nsinspect/procinfo"
)

// HostNamespaces are the host's namespaces (init_nsproxy's, the initial
// ones), by index of namespaces.Links: kthreadd's (PID 2), since kernel
// threads run in init_nsproxy and PID 1's links may be closed even to
// root. They are read once per run: the initial namespaces live as long
// as the kernel. The error says why they cannot be known: nsinspect runs
// outside the initial pid namespace (its PID 2 is not kthreadd), or a
// link could not be read.
var HostNamespaces = sync.OnceValues(readHostNamespaces)

func readHostNamespaces() ([]namespaces.NS, error) {
	initial, err := namespaces.InInitialPIDNamespace("/proc")
	if err != nil {
		return nil, fmt.Errorf("the host's namespaces: %w", err)
	}
	if !initial {
		return nil, errors.New("the host's namespaces are not visible: nsinspect runs outside the initial pid namespace (run it in the host's: docker --pid=host, hostPID: true)")
	}
	p, err := procinfo.Open(2)
	if err != nil {
		return nil, fmt.Errorf("the host's namespaces: kthreadd (PID 2): %w", err)
	}
	defer p.Close()
	st, err := p.Stat()
	if err != nil {
		return nil, fmt.Errorf("the host's namespaces: kthreadd (PID 2): %w", err)
	}
	if !st.IsKthread() || st.Comm != "kthreadd" {
		return nil, fmt.Errorf("the host's namespaces: PID 2 is %q, not the kernel thread kthreadd", st.Comm)
	}
	out := make([]namespaces.NS, len(namespaces.Links))
	for i, l := range namespaces.Links {
		ns, err := p.Namespace(l.Name)
		if errors.Is(err, fs.ErrNotExist) {
			continue // a type this kernel was built without
		}
		if err != nil {
			return nil, fmt.Errorf("the host's namespaces: kthreadd's %s: %w", l.Name, err)
		}
		out[i] = ns
	}
	return out, nil
}
