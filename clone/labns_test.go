//go:build cgo

package clone

import (
	"slices"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/clone/flags"
	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/namespaces"
)

// The report names the namespaces its lab made, and they are the ones the
// experiment's parent does not share with nsinspect: a root lab keeps
// nsinspect's user namespace, a lab in a new user namespace makes that
// too, and a CLONE_INTO_CGROUP lab keeps nsinspect's cgroup namespace.
func TestLabNamespacesAsReported(t *testing.T) {
	testutil.RequireRoot(t)
	for _, c := range []struct {
		name string
		req  Request
		kept []string // nsinspect's namespaces the lab keeps
	}{
		{"root lab", Request{Flags: flags.Set(unix.CLONE_NEWNET)}, []string{"user"}},
		{"user namespace lab", Request{Flags: flags.Set(unix.CLONE_NEWNET), UserNS: true}, nil},
		{"CLONE_INTO_CGROUP lab", Request{Flags: flags.Set(unix.CLONE_INTO_CGROUP)}, []string{"cgroup", "user"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Run(c.req)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Errno != nil {
				t.Fatalf("refused: %s", *rep.Errno)
			}
			for _, typ := range namespaces.Types {
				name := typ.Name()
				var own syscall.Stat_t
				if err := syscall.Stat("/proc/self/ns/"+name, &own); err != nil {
					t.Fatal(err)
				}
				parent, ok := rep.Parent.NSLink(name)
				if !ok {
					t.Fatalf("the parent's %s link was not read", name)
				}
				fresh := parent.Ino != own.Ino
				if reported := slices.Contains(rep.LabNamespaces, name); reported != fresh {
					t.Errorf("%s: the report lists it among the lab's namespaces: %v; the parent's is nsinspect's: %v", name, reported, !fresh)
				}
				if kept := slices.Contains(c.kept, name); kept == fresh {
					t.Errorf("%s: kept %v, want %v", name, !fresh, kept)
				}
			}
		})
	}
}
