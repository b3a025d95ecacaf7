package tracer

import (
	"errors"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// traced runs argv under a following tracer and returns its events.
func traced(t *testing.T, argv ...string) []*Event {
	t.Helper()
	testutil.RequireRoot(t)
	tr, err := Open(Options{Follow: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tr.Close()
	cmd := testutil.Command(t, time.Minute, argv[0], argv[1:]...)
	if _, err := testutil.Output(cmd); err != nil {
		t.Fatal(err)
	}
	if err := tr.Flush(); err != nil {
		t.Fatal(err)
	}
	var evs []*Event
	for {
		e, err := tr.Read()
		if errors.Is(err, ErrFlushed) {
			return evs
		}
		if err != nil {
			t.Fatal(err)
		}
		evs = append(evs, e)
	}
}

// unshare -n -f: one unshare that replaces net and nothing else, then a
// fork whose child shares the new net with its parent.
func TestUnshareNetFork(t *testing.T) {
	testutil.RequireCommand(t, "unshare", "util-linux")
	evs := traced(t, "unshare", "-n", "-f", "true")
	var un, fork *Event
	for _, e := range evs {
		t.Logf("%v flags=%#x errno=%v a=%+v b=%+v", e.Kind, e.Flags, e.Errno, e.A, e.B)
		switch {
		case e.Kind == Unshare && un == nil:
			un = e
		case e.Kind == Fork && un != nil && e.A.TGID == un.A.TGID:
			fork = e
		}
	}
	if un == nil || fork == nil {
		t.Fatalf("no unshare then fork among %d events", len(evs))
	}
	const net = 3 // namespaces.Links
	if un.Flags != unix.CLONE_NEWNET || un.Errno != 0 {
		t.Errorf("unshare flags %#x errno %v", un.Flags, un.Errno)
	}
	for i := range un.A.NS {
		if changed := un.A.NS[i] != un.B.NS[i]; changed != (i == net) {
			t.Errorf("namespace slot %d changed: %v (%v -> %v)", i, changed, un.A.NS[i], un.B.NS[i])
		}
	}
	if fork.A.NS != fork.B.NS || fork.B.NS[net] != un.B.NS[net] {
		t.Errorf("fork child namespaces %v, parent %v, new net %v", fork.B.NS, fork.A.NS, un.B.NS[net])
	}
	if fork.A.Obj[MM] == fork.B.Obj[MM] || fork.A.Obj[Files] == fork.B.Obj[Files] {
		t.Errorf("fork shares mm or files: %v %v", fork.A.Obj, fork.B.Obj)
	}
}
