// Command capture writes the fd-table fixtures of procinfo/testdata from a
// real process: it opens one fd of each kind nsinspect classifies, then
// copies its own /proc/self/fd links, st_mode and fdinfo files. Run it
// through ../capture.sh, as root, on the machine the fixtures describe.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

func must(fd int, err error) int {
	if err != nil {
		fmt.Fprintln(os.Stderr, "capture:", err)
		os.Exit(1)
	}
	return fd
}

func main() {
	out, tmp := os.Args[1], os.Args[2]
	names := map[int]string{}
	open := func(name string) func(int, error) {
		return func(fd int, err error) { names[must(fd, err)] = name }
	}

	reg := filepath.Join(tmp, "reg file")
	os.WriteFile(reg, []byte("hello"), 0o644)
	fd := must(unix.Open(reg, unix.O_RDONLY|unix.O_CLOEXEC, 0))
	unix.Read(fd, make([]byte, 3))
	names[fd] = "regular"
	open("dir")(unix.Open(tmp, unix.O_RDONLY|unix.O_DIRECTORY, 0))
	var p [2]int
	must(0, unix.Pipe2(p[:], unix.O_NONBLOCK))
	names[p[0]], names[p[1]] = "pipe-read", "pipe-write"
	open("socket-tcp")(unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0))
	open("socket-unix")(unix.Socket(unix.AF_UNIX, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0))
	ev := must(unix.Eventfd(5, unix.EFD_CLOEXEC))
	names[ev] = "eventfd"
	ep := must(unix.EpollCreate1(0))
	must(0, unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, ev, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(ev)}))
	names[ep] = "eventpoll"
	open("timerfd")(unix.TimerfdCreate(unix.CLOCK_MONOTONIC, 0))
	in := must(unix.InotifyInit1(0))
	must(unix.InotifyAddWatch(in, tmp, unix.IN_CREATE))
	names[in] = "inotify"
	var ss unix.Sigset_t
	open("signalfd")(unix.Signalfd(-1, &ss, 0))
	open("pidfd")(unix.PidfdOpen(1, 0))
	open("nsfs")(unix.Open("/proc/self/ns/net", unix.O_RDONLY, 0))
	open("memfd")(unix.MemfdCreate("fixture mem", 0))
	open("chr")(unix.Open("/dev/null", unix.O_WRONLY|unix.O_APPEND, 0))
	gone := filepath.Join(tmp, "gone")
	os.WriteFile(gone, []byte("x"), 0o644)
	open("deleted")(unix.Open(gone, unix.O_RDWR, 0))
	os.Remove(gone)
	fifo := filepath.Join(tmp, "fifo")
	must(0, unix.Mkfifo(fifo, 0o600))
	open("fifo")(unix.Open(fifo, unix.O_RDWR, 0))
	open("blk")(unix.Open("/dev/loop0", unix.O_RDONLY, 0))

	var table []string
	for fd, name := range names {
		n := strconv.Itoa(fd)
		link, err := os.Readlink("/proc/self/fd/" + n)
		must(0, err)
		var st unix.Stat_t
		must(0, unix.Stat("/proc/self/fd/"+n, &st))
		info, err := os.ReadFile("/proc/self/fdinfo/" + n)
		must(0, err)
		must(0, os.WriteFile(filepath.Join(out, "fdinfo", name), info, 0o644))
		table = append(table, fmt.Sprintf("%s\t%s\t%o", name, link, st.Mode))
	}
	sort.Strings(table)
	must(0, os.WriteFile(filepath.Join(out, "fd-links.tsv"), []byte(strings.Join(table, "\n")+"\n"), 0o644))
}
