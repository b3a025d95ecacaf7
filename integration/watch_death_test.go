package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/inspect"
	"github.com/nsinspect/nsinspect/internal/testutil"
)

// watch reports the death of a namespace that existed before it started
// and that no event named (the discovery pass it seeds the tracer with):
// a uts namespace held by one `unshare -u sleep` started first dies when
// that process is killed, and watch --type uts shows one death of it.
// Where features says the kernel takes no kprobe, watch shows none and
// its end line says deaths are not seen.
func TestWatchDeathOfOlderNamespace(t *testing.T) {
	requireTracer(t)
	testutil.RequireCommand(t, "unshare", "util-linux")
	kprobes := hasFeature(t, "kprobes (namespace deaths)")
	holder := testutil.Command(t, testutil.Quick, "unshare", "-u", "sleep", "600")
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { holder.Process.Kill(); holder.Wait() })
	pid := strconv.Itoa(holder.Process.Pid)
	var uts uint64
	for i := 0; i < 200 && (uts == 0 || uts == nsIno(t, "self", "uts")); i++ {
		time.Sleep(10 * time.Millisecond) // until unshare has unshared
		uts = nsIno(t, pid, "uts")
	}
	if uts == 0 || uts == nsIno(t, "self", "uts") {
		t.Fatalf("unshare -u sleep (%s) is not in a uts namespace of its own", pid)
	}
	cmd := testutil.Command(t, testutil.Quick, binary, "watch", "--json", "--type", "uts")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var all strings.Builder
	var events []*inspect.TraceEvent
	next := func(within time.Duration) *inspect.TraceEvent {
		select {
		case l, ok := <-lines:
			if !ok {
				return nil
			}
			all.WriteString(l + "\n")
			e := &inspect.TraceEvent{}
			if err := json.Unmarshal([]byte(l), e); err != nil {
				t.Fatalf("%v: %s", err, l)
			}
			events = append(events, e)
			return e
		case <-time.After(within):
			return nil
		}
	}
	// Ready once an unshare -u of ours is seen: the programs are attached
	// and the seeding pass is over (events are read only after it).
	ready := false
	for i := 0; i < 60 && !ready; i++ {
		testutil.MustRun(t, testutil.Command(t, testutil.Quick, "unshare", "-u", "true"))
		for e := next(time.Second); e != nil && !ready; e = next(100 * time.Millisecond) {
			ready = e.Event == "unshare" && e.Caller.Comm == "unshare"
		}
	}
	if !ready {
		t.Fatalf("watch showed no unshare -u in a minute: %s\n%s", stderr.String(), all.String())
	}
	holder.Process.Kill()
	holder.Wait()
	var death *inspect.TraceEvent
	for deadline := time.Now().Add(10 * time.Second); kprobes && death == nil && time.Now().Before(deadline); {
		if e := next(time.Second); e != nil && e.Event == "death" && e.Namespace.Ino == uts {
			death = e
		}
	}
	cmd.Process.Signal(unix.SIGTERM)
	for e := next(30 * time.Second); e != nil; e = next(30 * time.Second) {
		if e.Event == "death" && e.Namespace.Ino == uts && death != e {
			t.Errorf("a second death of uts %d: %+v", uts, e)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("watch: %v: %s", err, stderr.String())
	}
	end := events[len(events)-1]
	if end.Event != "end" {
		t.Fatalf("watch's last line is not its end:\n%s", all.String())
	}
	checkContract(t, cmd.Args, all.String())
	if !kprobes {
		if slices.ContainsFunc(events, func(e *inspect.TraceEvent) bool { return e.Event == "death" }) ||
			!slices.ContainsFunc(end.Unseen, func(s string) bool { return strings.HasPrefix(s, "namespace deaths") }) {
			t.Errorf("no kprobes here, and watch showed deaths, or no unseen deaths:\n%s", all.String())
		}
		return
	}
	if death == nil || death.Namespace.Type.Name() != "uts" || death.Caller != nil {
		t.Fatalf("no death of uts %d, held by %s since before watch started, in 10 s:\n%s", uts, pid, all.String())
	}
}
