package procinfo

import (
	"errors"
	"os/exec"
	"testing"

	"golang.org/x/sys/unix"
)

// A pinned process reaped while it is read: every read fails with an
// error that matches ErrProcessGone, never a bare ENOENT (a lookup in
// the directory of a process the kernel is reaping can say ENOENT even
// for status), and no read succeeds after the reap. 1,000 processes, each
// read in a loop while another goroutine kills and reaps it.
func TestReadWhileReaped(t *testing.T) {
	files := []string{"status", "stat", "cgroup", "comm"}
	enoent := 0
	for i := range 1000 {
		c := exec.Command("sleep", "100")
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		p, err := Open(c.Process.Pid)
		if err != nil {
			c.Process.Kill()
			c.Wait()
			t.Fatal(err)
		}
		reaped := make(chan struct{})
		go func() {
			c.Process.Kill()
			c.Wait()
			close(reaped)
		}()
		name := files[i%len(files)]
		for done := false; !done; {
			select {
			case <-reaped:
				done = true // one more read, after the reap
			default:
			}
			_, err := p.ReadFile(name)
			if err == nil {
				if done {
					t.Errorf("pid %d: %s read after the process was reaped", p.PID, name)
				}
				continue
			}
			if errors.Is(err, unix.ENOENT) {
				enoent++
			}
			if !errors.Is(err, ErrProcessGone) {
				t.Errorf("pid %d: %s: %v; want an error that matches ErrProcessGone", p.PID, name, err)
			}
			break
		}
		p.Close()
		<-reaped
	}
	t.Logf("%d of 1000 reads failed with ENOENT (the reap under way)", enoent)
}
