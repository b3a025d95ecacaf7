package testutil

import (
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// NoChildren fails the test if this process has children left (live or
// zombie), after giving exiting ones a moment to be reaped.
func NoChildren(t testing.TB) {
	t.Helper()
	var left []string
	for i := 0; i < 50; i++ {
		left = Children()
		if len(left) == 0 {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Errorf("children left behind: %s", strings.Join(left, ", "))
}

// Children lists this process's children as "pid (comm) state".
func Children() []string {
	tasks, _ := os.ReadDir("/proc/self/task")
	var out []string
	for _, task := range tasks {
		b, err := os.ReadFile("/proc/self/task/" + task.Name() + "/children")
		if err != nil {
			continue
		}
		for _, pid := range strings.Fields(string(b)) {
			stat, err := os.ReadFile("/proc/" + pid + "/stat")
			if err != nil {
				continue // reaped meanwhile
			}
			// "PID (comm) S ...": keep comm and state.
			f := strings.Fields(string(stat))
			if len(f) > 2 {
				out = append(out, pid+" "+f[1]+" "+f[2])
			}
		}
	}
	return out
}

// WaitComm waits until process pid runs a program called comm: after a
// child printed "ready" and exec'd, the exec may not have happened yet.
func WaitComm(t testing.TB, pid int, comm string) {
	t.Helper()
	path := "/proc/" + strconv.Itoa(pid) + "/comm"
	var got []byte
	for i := 0; i < 2000; i++ { // 10 s: an exec under QEMU's TCG can be slow
		got, _ = os.ReadFile(path)
		if strings.TrimSpace(string(got)) == comm {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("pid %d still runs %q, not %q", pid, strings.TrimSpace(string(got)), comm)
}
