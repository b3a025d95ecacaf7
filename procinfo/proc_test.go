package procinfo

import (
	"errors"
	"os"
	"testing"

	"github.com/nsinspect/nsinspect/features"
	"github.com/nsinspect/nsinspect/internal/testutil"
)

func TestSelfNamespaces(t *testing.T) {
	testutil.CheckLeaks(t)
	p, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	links, err := p.Namespaces()
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 10 {
		t.Fatalf("got %d links, want 10", len(links))
	}
	for _, l := range links {
		if l.Err != nil {
			t.Errorf("%s: %v", l.Link.Name, l.Err)
			continue
		}
		// NS_GET_ID exists from 6.18 on; before it the inode is the identity.
		if (l.NS.ID == 0) == features.Has(features.NSGetID) || l.NS.Ino == 0 || l.NS.Type != l.Link.Type {
			t.Errorf("%s: got %+v", l.Link.Name, l.NS)
		}
		want, err := os.Readlink("/proc/self/ns/" + l.Link.Name)
		if err != nil {
			t.Fatal(err)
		}
		if got := l.NS.String(); got != want {
			t.Errorf("%s: identified as %s, readlink says %s", l.Link.Name, got, want)
		}
	}
}

// A pinned task that exits must answer ErrProcessGone, not some other
// process's data; and a pid that no longer exists cannot be opened.
func TestPinOutlivesProcess(t *testing.T) {
	testutil.CheckLeaks(t)
	cmd := testutil.Command(t, testutil.Held, "sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	// Start returns once the child is made; its exec may still be ahead
	// (seen under QEMU's TCG).
	testutil.WaitComm(t, pid, "sleep")
	p, err := Open(pid)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if st, err := p.Stat(); err != nil || st.Comm != "sleep" || st.PID != pid {
		t.Fatalf("stat of live child: %+v, %v", st, err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	_, err = p.Status()
	if !errors.Is(err, ErrProcessGone) {
		t.Fatalf("read after reap: got %v, want ErrProcessGone", err)
	}
	if err := p.Alive(); !errors.Is(err, ErrProcessGone) {
		t.Fatalf("Alive after reap: %v", err)
	}
	if _, err := Open(pid); !errors.Is(err, ErrProcessGone) {
		t.Fatalf("Open of reaped pid %d: got %v, want ErrProcessGone", pid, err)
	}
}
