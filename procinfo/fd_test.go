package procinfo

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/nsinspect/nsinspect/internal/testutil"
	"github.com/nsinspect/nsinspect/namespaces"
)

// testdata/fd-links.tsv holds, for each fd the capture process opened, the
// link text of /proc/self/fd/N and the octal st_mode found through it.
func TestClassifyFixtures(t *testing.T) {
	want := map[string]struct {
		kind Kind
		anon string
	}{
		"regular":     {KindRegular, ""},
		"deleted":     {KindRegular, ""},
		"dir":         {KindDir, ""},
		"pipe-read":   {KindPipe, ""},
		"pipe-write":  {KindPipe, ""},
		"fifo":        {KindFIFO, ""},
		"socket-tcp":  {KindSocket, ""},
		"socket-unix": {KindSocket, ""},
		"eventfd":     {KindAnonInode, "[eventfd]"},
		"eventpoll":   {KindAnonInode, "[eventpoll]"},
		"timerfd":     {KindAnonInode, "[timerfd]"},
		"signalfd":    {KindAnonInode, "[signalfd]"},
		"inotify":     {KindAnonInode, "inotify"},
		"pidfd":       {KindPidfd, ""},
		"nsfs":        {KindNsfs, ""},
		"memfd":       {KindMemfd, ""},
		"chr":         {KindChr, ""},
		"blk":         {KindBlk, ""},
	}
	f, err := os.Open("testdata/fd-links.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		if len(fields) != 3 {
			t.Fatalf("bad fixture line %q", sc.Text())
		}
		mode, err := strconv.ParseUint(fields[2], 8, 32)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := want[fields[0]]
		if !ok {
			t.Errorf("fixture %q has no expectation", fields[0])
			continue
		}
		seen++
		kind, anon := Classify(fields[1], uint32(mode))
		if kind != w.kind || anon != w.anon {
			t.Errorf("%s: Classify(%q, %o) = %s %q, want %s %q", fields[0], fields[1], mode, kind, anon, w.kind, w.anon)
		}
	}
	if seen != len(want) {
		t.Errorf("fixture has %d of the %d expected fds", seen, len(want))
	}
}

// Names cannot fool the classifier: a file called "net:[1]" has a path,
// and a path called "pipe:[1]" that is a fifo is still a fifo.
func TestClassifyOdd(t *testing.T) {
	for _, tt := range []struct {
		link string
		mode uint32
		want Kind
	}{
		{"/tmp/net:[1]", unix.S_IFREG, KindRegular},
		{"/tmp/pipe:[1]", unix.S_IFIFO, KindFIFO},
		{"/memfd-not", unix.S_IFREG, KindRegular},
		{"socket:[5]", 0, KindUnknown}, // stat failed: no guessing from the text
		{"/dev/pts/0 (deleted)", unix.S_IFCHR, KindChr},
		{"bogus:[1]", unix.S_IFREG, KindRegular},
		{"net:[4026531840]", unix.S_IFREG, KindNsfs},
		{"net:[0]", unix.S_IFREG, KindRegular}, // no nsfs inode is 0
		{"pid_for_children:[4026531836]", unix.S_IFREG, KindRegular},
		{"anon_inode:[pidfd]", 0, KindPidfd},
		{"/memfd:x (deleted)", unix.S_IFREG, KindMemfd},
		{"pipe:[7]", unix.S_IFIFO, KindPipe},
		{"/proc/1/fd/0", unix.S_IFLNK, KindUnknown},
	} {
		if got, _ := Classify(tt.link, tt.mode); got != tt.want {
			t.Errorf("Classify(%q, %o) = %s, want %s", tt.link, tt.mode, got, tt.want)
		}
	}
}

// FDs of our own process: every kind that needs no privilege, checked
// against what the test itself opened.
func TestFDsSelf(t *testing.T) {
	testutil.CheckLeaks(t)
	var pipe [2]int
	if err := unix.Pipe2(pipe[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pipe[0])
	defer unix.Close(pipe[1])
	ev, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(ev)
	nsfd, err := unix.Open("/proc/self/ns/uts", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(nsfd)
	wantNS, err := namespaces.FromFD(nsfd)
	if err != nil {
		t.Fatal(err)
	}
	pidfd, err := unix.PidfdOpen(os.Getpid(), 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(pidfd)

	p, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	fds, err := p.FDs()
	if err != nil {
		t.Fatal(err)
	}
	byNum := map[int]FD{}
	for _, fd := range fds {
		byNum[fd.Num] = fd
	}
	check := func(n int, kind Kind) FD {
		t.Helper()
		fd, ok := byNum[n]
		if !ok {
			t.Fatalf("fd %d missing from %d fds", n, len(fds))
		}
		if fd.Kind != kind {
			t.Errorf("fd %d (%s): kind %s, want %s", n, fd.Link, fd.Kind, kind)
		}
		return fd
	}
	if fd := check(pipe[1], KindPipe); strings.Join(OpenFlagNames(fd.Info.Flags), "|") != "O_WRONLY|O_CLOEXEC" {
		t.Errorf("pipe write end flags %v", OpenFlagNames(fd.Info.Flags))
	}
	if fd := check(ev, KindAnonInode); fd.AnonName != "[eventfd]" {
		t.Errorf("eventfd anon name %q", fd.AnonName)
	}
	if fd := check(nsfd, KindNsfs); fd.NS == nil || !fd.NS.Same(wantNS) {
		t.Errorf("nsfs fd identified as %+v (err %v), want %+v", fd.NS, fd.NSErr, wantNS)
	}
	if fd := check(pidfd, KindPidfd); fd.Info.Pid == nil || *fd.Info.Pid != os.Getpid() {
		t.Errorf("pidfd Pid: %v, want %d", fd.Info.Pid, os.Getpid())
	}
	if _, ok := byNum[p.Dirfd()]; !ok {
		t.Errorf("the pin's own dirfd %d is not listed", p.Dirfd())
	}
}

// An fd closed before it is read is reported as ErrFDClosed, which FDs
// skips.
func TestFDClosed(t *testing.T) {
	testutil.CheckLeaks(t)
	p, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	unix.Close(fd)
	if _, err := p.FD(fd); !errors.Is(err, ErrFDClosed) || errors.Is(err, ErrProcessGone) {
		t.Fatalf("FD of closed fd %d: %v, want ErrFDClosed", fd, err)
	}
}

// While another goroutine keeps closing fds and reusing their numbers for
// other files, every fd FDs returns must describe one file: its link, its
// mode and its fdinfo inode agree. A closed fd is skipped, never an error.
func TestFDsChurn(t *testing.T) {
	testutil.CheckLeaks(t)
	var devNull unix.Stat_t
	if err := unix.Stat("/dev/null", &devNull); err != nil {
		t.Fatal(err)
	}
	p, err := Self()
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case <-stop:
				return
			default:
			}
			var pp [2]int
			if unix.Pipe2(pp[:], unix.O_CLOEXEC) == nil {
				unix.Close(pp[0])
				unix.Close(pp[1])
			}
			if fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
				unix.Close(fd)
			}
		}
	}()
	defer func() { close(stop); <-done }()
	for i := 0; i < 300; i++ {
		fds, err := p.FDs()
		if err != nil {
			t.Fatalf("round %d: %v", i, err)
		}
		for _, fd := range fds {
			switch {
			case strings.HasPrefix(fd.Link, "pipe:["):
				if fd.Kind != KindPipe || fd.Link != "pipe:["+strconv.FormatUint(fd.Info.Ino, 10)+"]" {
					t.Fatalf("fd %d mixes two files: %+v", fd.Num, fd)
				}
			case fd.Link == "/dev/null":
				if fd.Kind != KindChr || fd.Info.Ino != devNull.Ino {
					t.Fatalf("fd %d mixes two files: %+v", fd.Num, fd)
				}
			}
		}
	}
}

func BenchmarkFDsSelf(b *testing.B) {
	p, err := Self()
	if err != nil {
		b.Fatal(err)
	}
	defer p.Close()
	for b.Loop() {
		if _, err := p.FDs(); err != nil {
			b.Fatal(err)
		}
	}
}
