package integration

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/nsinspect/nsinspect/internal/testutil"
)

// TestTargetPodman names podman containers, root's as podman:NAME and
// rootlessUser's as podman:USER/NAME, to every command that takes a
// task: each answers about the container's init, the host PID that
// `podman inspect --format {{.State.Pid}}` gives (startPodman), and fds,
// show, compare and ls agree with its /proc links; serve's endpoints
// answer about it too. A container that is not there is exit 2 with one
// line on stderr, and 404 no_such_container.
func TestTargetPodman(t *testing.T) {
	for _, rootless := range []bool{false, true} {
		t.Run(map[bool]string{false: "rootful", true: "rootless"}[rootless], func(t *testing.T) {
			p := requirePodman(t, rootless)
			prefix := "podman:"
			if rootless {
				prefix += rootlessUser + "/"
			}
			c := startPodman(t, rootless, "targets")
			checkTargetRuns(t, prefix+c.name, c.pid)
			checkTargetAnswers(t, prefix+c.name, c.pid)
			gone := prefix + "nsinspect-it-absent-" + strings.TrimPrefix(p.label, "nsinspect.test=")
			checkTargetAbsent(t, gone)
			checkTargetAPI(t, prefix+c.name, c.pid, gone)
		})
	}
}

// TestTargetRunc names a plain runc container (runc run -d from a bundle,
// root's state directory /run/runc) as runc:ID to every command that takes
// a task: each answers about the init `runc state` names, and fds, show,
// compare and ls agree with its /proc links; serve's endpoints answer
// about it too. An id runc does not know is exit 2 with one line on
// stderr, and 404 no_such_container.
func TestTargetRunc(t *testing.T) {
	c := startRuncBundle(t, "targets", nil)
	var st struct {
		Pid    int    `json:"pid"`
		Status string `json:"status"`
	}
	decode(t, testutil.MustRun(t, testutil.Command(t, testutil.Quick, "runc", "state", c.id)), &st)
	if st.Pid != c.pid || st.Status != "running" {
		t.Fatalf("runc state %s: pid %d %s, want %d running (its --pid-file)", c.id, st.Pid, st.Status, c.pid)
	}
	target := "runc:" + c.id
	checkTargetRuns(t, target, c.pid)
	checkTargetAnswers(t, target, c.pid)

	b := make([]byte, 6)
	rand.Read(b)
	gone := "runc:nsinspect-it-absent-" + hex.EncodeToString(b)
	checkTargetAbsent(t, gone)
	checkTargetAPI(t, target, c.pid, gone)
}
